/**
 * git-remote-codecommit's URL grammar: `codecommit://[profile@]repo` and
 * `codecommit::<region>://[profile@]repo`.
 */
export interface CodeCommitUrl {
  repository: string;
  profile: string | null;
  region: string | null;
}

export const REPOSITORY_NAME = /^[\w.-]{1,100}$/;
const GRAMMAR = /^codecommit(?:::([a-z0-9-]+))?:\/\/(?:([^@/]+)@)?([^@/]+)$/;

export type ParsedUrl = { ok: true; url: CodeCommitUrl } | { ok: false; message: string };

export function parseCodeCommitUrl(text: string): ParsedUrl {
  const match = GRAMMAR.exec(text);
  if (!match) {
    return {
      ok: false,
      message: 'expected codecommit://[profile@]repository or codecommit::<region>://[profile@]repository',
    };
  }
  const [, region, profile, repository = ''] = match;
  if (!REPOSITORY_NAME.test(repository)) {
    return {
      ok: false,
      message: `repository "${repository}" is not a CodeCommit name (1-100 of letters, digits, . _ -)`,
    };
  }
  return { ok: true, url: { repository, profile: profile ?? null, region: region ?? null } };
}
