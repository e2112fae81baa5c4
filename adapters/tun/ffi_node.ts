// TunFfi for Node through koffi (libc.so.6). poll() runs as a koffi async call, on koffi's
// worker threads, so waiting for packets costs no CPU and never blocks the event loop.
import koffi from "koffi";
import type { TunFfi } from "./ffi.ts";
import { O_CLOEXEC, O_NONBLOCK } from "./ffi.ts";

let cached: TunFfi | undefined;

export function nodeTunFfi(): TunFfi {
  if (cached) return cached;
  const libc = koffi.load("libc.so.6");
  const open = libc.func("int open(const char *path, int flags)");
  const ioctl = libc.func("int ioctl(int fd, unsigned long request, void *arg)");
  const socket = libc.func("int socket(int domain, int type, int protocol)");
  const ifNameToIndex = libc.func("unsigned int if_nametoindex(const char *name)");
  const read = libc.func("long read(int fd, void *buf, unsigned long count)");
  const write = libc.func("long write(int fd, const void *buf, unsigned long count)");
  const close = libc.func("int close(int fd)");
  const pipe2 = libc.func("int pipe2(_Out_ int *fds, int flags)");
  const poll = libc.func("int poll(void *fds, unsigned long nfds, int timeout)");
  const neg = (r: number): number => (r < 0 ? -koffi.errno() : r);
  cached = {
    runtime: "node",
    open: (path, flags) => neg(open(path, flags) as number),
    socket: (d, t, p) => neg(socket(d, t, p) as number),
    ioctlPtr: (fd, req, arg) => neg(ioctl(fd, req, arg) as number),
    ifNameToIndex: (name) => ifNameToIndex(name) as number,
    read: (fd, buf) => neg(Number(read(fd, buf, buf.length))),
    write: (fd, buf) => neg(Number(write(fd, buf, buf.length))),
    close: (fd) => void close(fd),
    pipe: () => {
      const fds = [0, 0];
      if ((pipe2(fds, O_NONBLOCK | O_CLOEXEC) as number) < 0) throw new Error(`pipe2 failed (errno ${koffi.errno()})`);
      return [fds[0]!, fds[1]!];
    },
    pollAsync: (fds, count, timeoutMs) =>
      new Promise((resolve) => {
        poll.async(fds, count, timeoutMs, (err: unknown, res: number) => resolve(err ? -1 : res));
      }),
  };
  return cached;
}
