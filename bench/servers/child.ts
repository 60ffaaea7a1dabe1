/**
 * The protocol between a server under test and the bench that started it: the child announces
 * its address over the IPC channel once it listens, and shuts down on SIGTERM or when the bench
 * goes away (a disconnected IPC channel), so no server outlives a crashed bench.
 */

export interface ListeningMessage {
  kind: "listening";
  url: string;
  /** The gateway sends each simulated message as a HandsetIpcMessage (builds before this field poll the inbox table). */
  handset?: boolean;
}

/** Extra messages a child may send the bench (the peer hands over each one-time code this way). */
export interface CodeMessage {
  kind: "code";
  phoneNumber: string;
  code: string;
}

/** A message the gateway's simulated handset received, as it was stored. */
export interface HandsetIpcMessage {
  kind: "handset";
  id: string;
  to: string;
  body: string;
  /** epoch ms */
  created: number;
}

export type ChildMessage = ListeningMessage | CodeMessage | HandsetIpcMessage;

export function announce(message: ChildMessage): void {
  process.send?.(message);
}

export function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    // A server that cannot close in time is not worth waiting on: the bench kills it after this anyway.
    const deadline = setTimeout(() => process.exit(1), 10_000);
    deadline.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  process.once("disconnect", shutdown);
}

export function failStart(error: unknown): never {
  console.error(error);
  process.exit(1);
}
