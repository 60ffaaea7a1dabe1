import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "../platform/logger";
import type { PublicUrl } from "../platform/public-url";

/** "receipted": handed to the receipt processor. "ignored": signed and valid, but not a final status. */
export type WebhookOutcome = "receipted" | "ignored";

/** The request is not signed by the provider (missing, wrong, or expired signature): 403, nothing read. */
export class WebhookSignatureError extends Error {
  constructor(message = "invalid webhook signature") {
    super(message);
    this.name = "WebhookSignatureError";
  }
}

/** Signed, but not something the adapter understands: 400. */
export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookPayloadError";
  }
}

/** The provider is not started (or already stopped), so there is nowhere to put a receipt: 503. */
export class WebhookNotReadyError extends Error {
  constructor(provider: string) {
    super(`provider ${provider} is not taking receipts`);
    this.name = "WebhookNotReadyError";
  }
}

/** Twilio-compatible adapters: form-encoded callbacks signed over the public URL and the sorted parameters. */
export interface StatusCallbackReceiver {
  handleStatusCallback(url: string, params: Record<string, string | string[]>, signature: string | undefined): Promise<WebhookOutcome>;
}

/** Telephony hooks: JSON callbacks signed over the raw body. */
export interface HookCallbackReceiver {
  handleCallback(rawBody: Buffer, signature: string | undefined): Promise<WebhookOutcome>;
}

export interface TelephonyWebhookOptions {
  twilio: ReadonlyMap<string, StatusCallbackReceiver>;
  hooks: ReadonlyMap<string, HookCallbackReceiver>;
  publicUrl: PublicUrl;
  logger: Logger;
  /** @default 65536 */
  maxBodyBytes?: number;
}

/**
 * Routes, to be mounted at /webhooks, where providers report delivery:
 * `POST /webhooks/twilio/:provider` and `POST /webhooks/hook/:provider`. They only move
 * requests to the named adapter, which checks the signature before it reads anything;
 * a refused signature is a 403 and changes nothing.
 */
export function telephonyWebhooks(options: TelephonyWebhookOptions): Router {
  const { twilio, hooks, publicUrl, logger } = options;
  const limit = options.maxBodyBytes ?? 65_536;
  const router = express.Router();

  router.post("/twilio/:provider", express.urlencoded({ extended: false, limit }), async (req: Request, res: Response) => {
    const name = providerName(req);
    const receiver = twilio.get(name);
    if (!receiver) {
      res.status(404).json({ error: "not found" });
      return;
    }
    // The signature covers the URL Twilio was given, which is the public one, not what a proxy forwarded.
    const url = publicUrl.resolve(req.originalUrl);
    const params = formParams(req.body);
    await answer(res, name, () => receiver.handleStatusCallback(url, params, req.header("x-twilio-signature")));
  });

  router.post("/hook/:provider", express.raw({ limit, type: () => true }), async (req: Request, res: Response) => {
    const name = providerName(req);
    const receiver = hooks.get(name);
    if (!receiver) {
      res.status(404).json({ error: "not found" });
      return;
    }
    // Signed over the exact bytes sent: parsing first could change what is verified.
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    await answer(res, name, () => receiver.handleCallback(rawBody, req.header("x-ringfence-signature")));
  });

  async function answer(res: Response, provider: string, handle: () => Promise<WebhookOutcome>): Promise<void> {
    try {
      const outcome = await handle();
      res.status(200).json({ status: outcome });
    } catch (error) {
      if (error instanceof WebhookSignatureError) {
        logger.warn({ provider, reason: error.message }, "webhook refused: bad signature");
        res.status(403).json({ error: "invalid signature" });
      } else if (error instanceof WebhookPayloadError) {
        logger.warn({ provider, reason: error.message }, "webhook refused: malformed payload");
        res.status(400).json({ error: error.message });
      } else if (error instanceof WebhookNotReadyError) {
        res.status(503).json({ error: "not ready" });
      } else {
        logger.error({ err: error, provider }, "webhook failed");
        res.status(500).json({ error: "internal error" });
      }
    }
  }

  return router;
}

function providerName(req: Request): string {
  const name = req.params.provider;
  return typeof name === "string" ? name : "";
}

/** express.urlencoded (extended: false) gives strings, or arrays for repeated names. */
function formParams(body: unknown): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  if (typeof body !== "object" || body === null) return params;
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === "string") params[name] = value;
    else if (Array.isArray(value)) params[name] = value.filter((item): item is string => typeof item === "string");
  }
  return params;
}
