// The few libc calls the TUN adapter needs, as one interface with a Node implementation
// (koffi, ffi_node.ts) and a Deno one (Deno.dlopen, ffi_deno.ts). Linux x86_64/aarch64 only.
// Errors come back as negative errno values, never as exceptions.

export interface TunFfi {
  readonly runtime: "node" | "deno";
  /** open(2): a file descriptor, or -errno. */
  open(path: string, flags: number): number;
  /** ioctl(2) with a pointer argument (struct ifreq): 0, or -errno. */
  ioctlPtr(fd: number, request: number, arg: Uint8Array): number;
  /** socket(2): a file descriptor, or -errno. */
  socket(domain: number, type: number, protocol: number): number;
  /** if_nametoindex(3): 0 when the interface does not exist in this network namespace. */
  ifNameToIndex(name: string): number;
  /** read(2) into buf: bytes read, or -errno (-EAGAIN when nothing is there). */
  read(fd: number, buf: Uint8Array): number;
  /** write(2) of buf: bytes written, or -errno. */
  write(fd: number, buf: Uint8Array): number;
  close(fd: number): void;
  /** pipe2(2) with O_NONBLOCK | O_CLOEXEC: [read end, write end]. */
  pipe(): [number, number];
  /**
   * poll(2) on a worker thread (never blocks the event loop): resolves with the count of
   * ready descriptors (revents filled in `fds`), or -1 (the errno is not available there).
   */
  pollAsync(fds: Uint8Array, count: number, timeoutMs: number): Promise<number>;
}

export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const AF_INET = 2;
export const SOCK_DGRAM = 2;
/** ioctl: get interface flags (struct ifreq, short at offset 16). */
export const SIOCGIFFLAGS = 0x8913;
/** ioctl: get interface MTU (struct ifreq, int at offset 16). */
export const SIOCGIFMTU = 0x8921;
export const IFF_UP = 0x1;
/** Operationally up: carrier on and the link watcher has activated the device's queue. */
export const IFF_RUNNING = 0x40;
/** _IOW('T', 202, int) */
export const TUNSETIFF = 0x400454ca;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
/** Every packet read or written is preceded by a struct virtio_net_hdr (GSO, checksum offload). */
export const IFF_VNET_HDR = 0x4000;
/** sizeof(struct virtio_net_hdr), the default TUNSETVNETHDRSZ. */
export const VNET_HDR_SIZE = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on 64-bit Linux. */
export const IFREQ_SIZE = 40;
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
/** sizeof(struct pollfd). */
export const POLLFD_SIZE = 8;

export const ERRNO = { EPERM: 1, ENOENT: 2, EINTR: 4, ENXIO: 6, EBADF: 9, EAGAIN: 11, EACCES: 13, EBUSY: 16, ENODEV: 19, EINVAL: 22 } as const;

/** The FFI of the running runtime (Deno.dlopen under Deno, koffi under Node). */
export async function loadTunFfi(): Promise<TunFfi> {
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) {
    const m = await import("./ffi_deno.ts");
    return m.denoTunFfi();
  }
  const m = await import("./ffi_node.ts");
  return m.nodeTunFfi();
}
