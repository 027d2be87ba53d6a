/**
 * The forms a user gives a CodeCommit repository in: git-remote-codecommit's `codecommit://[profile@]repo` and
 * `codecommit::<region>://[profile@]repo` (a trailing slash allowed, as it allows one), and the HTTPS remote
 * `https://git-codecommit[-fips].<region>.<domain>/v1/repos/<name>`, also through an interface endpoint's own name
 * (`https://vpce-….git-codecommit.<region>.vpce.amazonaws.com/v1/repos/<name>`): region and endpoint from the host.
 */
import { hostRegion } from './git-host.ts';
import { regionProblem } from './regions.ts';

export interface CodeCommitUrl {
  repository: string;
  profile: string | null;
  region: string | null;
  /** `https://<host>[:port]` of an HTTPS remote; null for a `codecommit://` URL. */
  endpoint: string | null;
}

/** CodeCommit's repository names: 1-100 of letters, digits, `.`, `_`, `-`; not `.` or `..`, not ending in `.git`. */
export const REPOSITORY_NAME = /^(?!\.{1,2}$)(?!.*\.git$)[A-Za-z0-9._-]{1,100}$/;
export const REPOSITORY_NAME_RULE = '1-100 of letters, digits, . _ -; not . or .., not ending in .git';

const GRAMMAR = /^codecommit(?:::([a-z0-9-]+))?:\/\/(?:([^@/]+)@)?([^@/]+)\/?$/;
const HTTPS_REMOTE = /^https:\/\/([^/@?#]+)\/v1\/repos\/([^/?#]+)\/?$/;

export type ParsedUrl = { ok: true; url: CodeCommitUrl } | { ok: false; message: string };

const FORMS =
  'expected codecommit://[profile@]repository, codecommit::<region>://[profile@]repository or ' +
  'https://git-codecommit.<region>.amazonaws.com/v1/repos/<repository>';

function checked(url: CodeCommitUrl): ParsedUrl {
  if (!REPOSITORY_NAME.test(url.repository)) {
    return { ok: false, message: `repository "${url.repository}" is not a CodeCommit name (${REPOSITORY_NAME_RULE})` };
  }
  const problem = url.region ? regionProblem(url.region) : null;
  return problem ? { ok: false, message: problem } : { ok: true, url };
}

/**
 * @example
 * parseCodeCommitUrl('codecommit::ap-northeast-1://switchrole@test_repo')
 * // { ok: true, url: { repository: 'test_repo', profile: 'switchrole', region: 'ap-northeast-1', endpoint: null } }
 */
export function parseCodeCommitUrl(text: string): ParsedUrl {
  const match = GRAMMAR.exec(text);
  if (match) {
    const [, region, profile, repository = ''] = match;
    return checked({ repository, profile: profile ?? null, region: region ?? null, endpoint: null });
  }
  const https = HTTPS_REMOTE.exec(text);
  if (https) {
    const [, authority = '', repository = ''] = https;
    const region = hostRegion(authority.replace(/:\d+$/, ''));
    if (!region) {
      return {
        ok: false,
        message: `${authority} is not a CodeCommit host (git-codecommit[-fips].<region>.<domain> or vpce-….git-codecommit.<region>.vpce.<domain>)`,
      };
    }
    return checked({ repository, profile: null, region, endpoint: `https://${authority}` });
  }
  return { ok: false, message: FORMS };
}
