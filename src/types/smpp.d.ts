/**
 * The part of `smpp` 0.5 (farhadi/node-smpp, untyped) that Ringfence uses: sessions, PDUs,
 * the server, and the GSM 03.38 encoder. PDU fields are `unknown`: the library decodes them
 * from the wire, and callers narrow what they read.
 */
declare module "smpp" {
  import { EventEmitter } from "node:events";
  import { Server as NetServer, type Socket } from "node:net";

  export type PduFields = Record<string, unknown>;

  export class PDU {
    constructor(command: string, options?: PduFields);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    /** The response PDU to this request, with its sequence number. */
    response(options?: PduFields): PDU;
    toBuffer(): Buffer;
  }

  export interface SessionOptions {
    host?: string;
    port?: number;
    tls?: boolean;
    /** Sends enquire_link this often (ms); answers are not checked. */
    auto_enquire_link_period?: number;
    [option: string]: unknown;
  }

  export class Session extends EventEmitter {
    socket: Socket;
    server?: Server;
    /** False when the socket is no longer writable; the callback then never runs. */
    send(pdu: PDU, responseCallback?: (response: PDU) => void, sendCallback?: (sent: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    on(event: "connect" | "secureConnect" | "close", listener: () => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    on(event: string, listener: (pdu: PDU) => void): this;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export interface TextEncoding {
    match(text: string): boolean;
    encode(text: string): Buffer;
    decode(bytes: Buffer): string;
  }

  export function connect(options: SessionOptions, listener?: () => void): Session;
  export function createServer(options: PduFields, listener?: (session: Session) => void): Server;
  export function createServer(listener?: (session: Session) => void): Server;

  /** ASCII is the GSM 03.38 default alphabet, one septet per octet (unpacked). */
  export const encodings: { ASCII: TextEncoding; LATIN1: TextEncoding; UCS2: TextEncoding };
  /** Command status names (ESME_ROK, ESME_RTHROTTLED, ...) to their values. */
  export const errors: Readonly<Record<string, number>>;
}
