/**
 * Which cookie to present: an explicit one, or the one `erl` itself would use from
 * the user's cookie file ($HOME/.erlang.cookie, then the XDG config location that
 * newer OTP releases also read).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CookieMissingError } from './errors';

export function cookieFileCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? os.homedir();
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  return [path.join(home, '.erlang.cookie'), path.join(configHome, 'erlang', '.erlang.cookie')];
}

/** The cookie from the first readable cookie file; erl ignores trailing whitespace. */
export function readDefaultCookie(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = cookieFileCandidates(env);
  for (const file of candidates) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    const cookie = text.replace(/\s+$/, '');
    if (cookie.length > 0) return cookie;
  }
  throw new CookieMissingError(candidates[0]);
}

export function resolveCookie(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return explicit ?? readDefaultCookie(env);
}
