import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createManyRefsRepo, createRichRepo } from '../harness/repos.ts';

describe('repos', () => {
  const root = mkdtempSync(join(tmpdir(), 'canary-repos-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('rich: HEAD on develop, a peeled annotated tag, main apart from develop', () => {
    const repo = createRichRepo(root, 'rich');
    expect(repo.refs).toContainEqual({ oid: repo.develop, name: 'HEAD' });
    expect(repo.refs).toContainEqual({ oid: repo.main, name: 'refs/tags/v1.0^{}' });
    expect(repo.refs).toContainEqual({ oid: repo.main, name: 'refs/tags/v1.0-light' });
    expect(repo.main).not.toBe(repo.develop);
  });

  it('many refs: 10,000 tags in well under the few-second budget', () => {
    const started = Date.now();
    const repo = createManyRefsRepo(root, 'many');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(repo.refs).toHaveLength(10_002);
  });
});
