// Typed errors for API misuse. Network input never throws (it is dropped and counted);
// only a caller that breaks an API contract gets one of these.

/** Base class of every error this library throws on purpose. */
export class MptcpError extends Error {
  override name = "MptcpError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An argument is outside what the API accepts (wrong range, wrong length, wrong type). */
export class InvalidArgumentError extends MptcpError {
  override name = "InvalidArgumentError";
}

/** The operation is not allowed in the object's current state (write after close, ...). */
export class InvalidStateError extends MptcpError {
  override name = "InvalidStateError";
}

/** A WebAssembly kernel could not be loaded or trapped (a bug in the kernel, never bad input). */
export class WasmKernelError extends MptcpError {
  override name = "WasmKernelError";
}
