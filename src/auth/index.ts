export { hashPassword, verifyPassword, passwordProblem, DUMMY_HASH } from "./password.ts";
export { createTotpSeed, totpUri, totpCode, totpStep } from "./totp.ts";
export {
  seal,
  open,
  openLegacySecretFile,
  parseSecretKey,
  keyId,
  SecretOpenError,
  type LegacySecretFile,
} from "./secretBox.ts";
