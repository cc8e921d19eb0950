// Matrix identifier checks (appendix "Identifier Grammar").

/** validUserId accepts @localpart:server with the historical localpart range. */
export function validUserId(s: string): boolean {
  return /^@[\x21-\x39\x3b-\x7e]+:[A-Za-z0-9.\-[\]:]+$/.test(s) && s.length <= 255;
}

/** validAlias accepts #alias:server. */
export function validAlias(s: string): boolean {
  return /^#[^:\s]+:[A-Za-z0-9.\-[\]:]+$/.test(s) && s.length <= 255;
}

/** aliasLocalpart cleans a room name into a suggested alias localpart. */
export function aliasLocalpart(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9._=-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
}
