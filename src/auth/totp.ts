/** TOTP second factor (RFC 6238, 6 digits, 30 s, SHA-1: what authenticator apps expect). */
import { Secret, TOTP } from "otpauth";

export function createTotpSeed(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI to show as a QR code or paste into an authenticator app. */
export function totpUri(seed: string, userName: string): string {
  return new TOTP({ issuer: "Lakebook", label: userName, secret: Secret.fromBase32(seed) }).toString();
}

export function totpCode(seed: string, timestamp = Date.now()): string {
  return TOTP.generate({ secret: Secret.fromBase32(seed), timestamp });
}

const PERIOD_MS = 30_000;

/**
 * The time step (Unix time / 30 s) `code` belongs to when it is valid now or one period either
 * side (clock drift); undefined when it is not. A code must be accepted only once: the caller
 * records the step (`Store.acceptTotpStep`) and refuses it, or an older one, next time.
 */
export function totpStep(seed: string, code: string, timestamp = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(seed), timestamp, window: 1 });
  return delta === null ? undefined : Math.floor(timestamp / PERIOD_MS) + delta;
}
