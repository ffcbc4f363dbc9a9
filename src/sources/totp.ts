/** RFC 6238 time-based one-time passwords (SHA-1, 6 digits, 30 s) from a base32 seed. */
import { Secret, TOTP } from "otpauth";
import { SourceError } from "../errors.ts";

export function totpCode(seedBase32: string, now: Date = new Date()): string {
  let secret: Secret;
  try {
    secret = Secret.fromBase32(seedBase32.replace(/\s+/g, "").toUpperCase());
  } catch (error) {
    // Never echo the seed itself.
    throw new SourceError("the stored TOTP seed is not valid base32: store the seed the site showed again", {
      cause: error,
    });
  }
  return new TOTP({ secret, algorithm: "SHA1", digits: 6, period: 30 }).generate({
    timestamp: now.getTime(),
  });
}
