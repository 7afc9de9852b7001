import { randomBytes } from "node:crypto";

/** How long a login link works: enough to open it on another device, short for a leaked one. */
export const loginCodeSeconds = 120;
/** Codes waiting at once; asking for more drops the oldest. */
const maxCodes = 16;

/**
 * One-time codes of `claude-poolctl dashboard`'s login links, kept in memory only: each is
 * traded once, within `loginCodeSeconds`, for the main token.
 */
export class LoginCodes {
  private readonly codes = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(): { code: string; expiresAt: Date } {
    this.dropExpired();
    while (this.codes.size >= maxCodes) this.codes.delete(this.codes.keys().next().value!);
    const code = randomBytes(18).toString("base64url");
    const expiresAt = this.now() + loginCodeSeconds * 1000;
    this.codes.set(code, expiresAt);
    return { code, expiresAt: new Date(expiresAt) };
  }

  /** Whether `code` was issued, is unexpired and unused; it is used up either way. */
  redeem(code: string): boolean {
    const expiresAt = this.codes.get(code);
    this.codes.delete(code);
    return expiresAt !== undefined && this.now() < expiresAt;
  }

  private dropExpired(): void {
    for (const [code, expiresAt] of this.codes)
      if (this.now() >= expiresAt) this.codes.delete(code);
  }
}
