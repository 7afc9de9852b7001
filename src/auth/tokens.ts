import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ErrorCode, PoolError } from "../errors.js";
import { allScopes, type Scope } from "./scopes.js";

/** A token as listed: never the secret itself. */
export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
}

interface StoredToken extends TokenInfo {
  /** sha256 of the secret, hex. */
  hash: string;
}

export interface Caller {
  /** "admin" for the main token, else the token's name. */
  name: string;
  tokenId: string;
  scopes: ReadonlySet<Scope>;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();
const newSecret = () => `cpt_${randomBytes(32).toString("base64url")}`;

/**
 * The remote API's tokens. The main token (all scopes) lives in the token file, mode 0600, where
 * `claude-poolctl token` reads it; extra tokens are kept in tokens.json as hashes only.
 */
export class TokenStore {
  private mainHash: Buffer;
  private extra: StoredToken[];
  private readonly extraFile: string;

  constructor(
    readonly mainFile: string,
    stateDir: string,
  ) {
    this.extraFile = join(stateDir, "tokens.json");
    this.mainHash = sha256(this.readOrCreateMain());
    this.extra = existsSync(this.extraFile)
      ? (JSON.parse(readFileSync(this.extraFile, "utf8")) as StoredToken[])
      : [];
  }

  /** Who presents `secret`, checked in constant time against every token; null if nobody. */
  authenticate(secret: string): Caller | null {
    const presented = sha256(secret);
    let caller: Caller | null = null;
    if (timingSafeEqual(presented, this.mainHash)) {
      caller = { name: "admin", tokenId: "main", scopes: allScopes };
    }
    for (const token of this.extra) {
      if (timingSafeEqual(presented, Buffer.from(token.hash, "hex")) && caller === null) {
        caller = { name: token.name, tokenId: token.id, scopes: new Set(token.scopes) };
      }
    }
    return caller;
  }

  mainToken(): string {
    return readFileSync(this.mainFile, "utf8").trim();
  }

  /** Replaces the main token; connections keep working until they reconnect. */
  rotate(): string {
    const secret = newSecret();
    this.writeSecret(secret);
    this.mainHash = sha256(secret);
    return secret;
  }

  create(name: string, scopes: Scope[]): { token: string; info: TokenInfo } {
    if (this.extra.some((t) => t.name === name)) {
      throw new PoolError(
        ErrorCode.InvalidParams,
        `a token named "${name}" exists; revoke it or pick another name`,
      );
    }
    const token = newSecret();
    const info: TokenInfo = {
      id: randomBytes(4).toString("hex"),
      name,
      scopes: [...new Set(scopes)],
      createdAt: new Date().toISOString(),
    };
    this.extra.push({ ...info, hash: sha256(token).toString("hex") });
    this.saveExtra();
    return { token, info };
  }

  list(): TokenInfo[] {
    return [
      { id: "main", name: "admin", scopes: [...allScopes], createdAt: "" },
      ...this.extra.map(({ id, name, scopes, createdAt }) => ({ id, name, scopes, createdAt })),
    ];
  }

  revoke(ref: string): TokenInfo {
    const token = this.extra.find((t) => t.id === ref || t.name === ref);
    if (!token) {
      throw new PoolError(
        ErrorCode.InvalidParams,
        ref === "main" || ref === "admin"
          ? 'the main token cannot be revoked; replace it with "claude-poolctl token rotate"'
          : `no token "${ref}"; see "claude-poolctl token list"`,
      );
    }
    this.extra = this.extra.filter((t) => t !== token);
    this.saveExtra();
    const { id, name, scopes, createdAt } = token;
    return { id, name, scopes, createdAt };
  }

  private readOrCreateMain(): string {
    if (existsSync(this.mainFile)) {
      chmodSync(this.mainFile, 0o600);
      const secret = readFileSync(this.mainFile, "utf8").trim();
      if (secret.length >= 16) return secret;
    }
    const secret = newSecret();
    this.writeSecret(secret);
    return secret;
  }

  private writeSecret(secret: string): void {
    mkdirSync(dirname(this.mainFile), { recursive: true, mode: 0o700 });
    const temp = `${this.mainFile}.tmp-${process.pid}`;
    writeFileSync(temp, secret + "\n", { mode: 0o600 });
    renameSync(temp, this.mainFile);
  }

  private saveExtra(): void {
    const temp = `${this.extraFile}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify(this.extra, null, 2) + "\n", { mode: 0o600 });
    renameSync(temp, this.extraFile);
  }
}
