import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Loading, Problem, Sha } from '../components.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import type { ConsoleDiff as DiffAnswer, DiffFilePage } from '@sluice/shared-protocol';

function lineClass(l: string): string {
  if (l.startsWith('@@')) return 'hunk';
  if (l.startsWith('+')) return 'add';
  if (l.startsWith('-')) return 'del';
  return 'ctx';
}

export function DiffView({ of, id }: { of: 'run' | 'attempt'; id: string }) {
  const q = `${of === 'run' ? 'runId' : 'attemptId'}=${encodeURIComponent(id)}`;
  const { data, error } = useLive(`diff:${q}`, () => api<DiffAnswer>('GET', `/api/v1/console/diff?${q}`), (e) => (of === 'run' ? e.runId === id : e.attemptId === id));
  if (!data) return error ? <Problem error={error} /> : <Loading what="the diff" />;
  const adds = data.files.reduce((n, f) => n + f.additions, 0);
  const dels = data.files.reduce((n, f) => n + f.deletions, 0);
  return (
    <>
      <p class="crumbs">
        <a href={href.runs}>Runs</a> / {of === 'run' ? <a href={href.run(id)}>run</a> : 'attempt'} / diff
      </p>
      <h1>
        Diff of {of} <code>{id}</code>
      </h1>
      <p>
        <Sha value={data.base} /> → <Sha value={data.head} /> · {data.files.length} file{data.files.length === 1 ? '' : 's'} · <span class="add-n">+{adds}</span> <span class="del-n">−{dels}</span>
      </p>
      {data.files.length === 0 && <p>No changes.</p>}
      <nav aria-label="Files in this diff" class="card">
        <ul class="files">
          {data.files.map((f, i) => (
            <li key={f.path}>
              <a href={`#file-${i}`} onClick={(e) => (e.preventDefault(), document.getElementById(`file-${i}`)?.scrollIntoView())}>
                {f.path}
              </a>{' '}
              <span class="add-n">+{f.additions}</span> <span class="del-n">−{f.deletions}</span>
            </li>
          ))}
        </ul>
      </nav>
      {data.files.map((f, i) => (
        <FileDiff key={`${data.head}:${f.path}`} file={f} anchor={`file-${i}`} query={q} />
      ))}
    </>
  );
}

function FileDiff({ file, anchor, query }: { file: DiffFilePage; anchor: string; query: string }) {
  const [lines, setLines] = useState(file.lines);
  const [next, setNext] = useState(file.nextOffset);
  const [error, setError] = useState<Error | null>(null);
  const more = () =>
    api<DiffAnswer>('GET', `/api/v1/console/diff?${query}&path=${encodeURIComponent(file.path)}&offset=${next}`).then((d) => {
      const page = d.files[0]!;
      setLines((l) => [...l, ...page.lines]);
      setNext(page.nextOffset);
    }, setError);
  return (
    <section class="card file" id={anchor} aria-labelledby={`${anchor}-h`} data-file={file.path}>
      <h2 id={`${anchor}-h`} class="file-h">
        <code>{file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}</code> <span class="small">{file.status}</span> <span class="add-n">+{file.additions}</span>{' '}
        <span class="del-n">−{file.deletions}</span>
      </h2>
      {file.status === 'binary' ? (
        <p class="muted">Binary file.</p>
      ) : (
        <pre class="diff" tabIndex={0} aria-label={`Changes in ${file.path}`}>
          {lines.map((l, i) => (
            <span key={i} class={lineClass(l)}>
              {l}
              {'\n'}
            </span>
          ))}
        </pre>
      )}
      {next !== null && (
        <button type="button" onClick={() => void more()}>
          Show more lines ({file.totalLines - lines.length} left)
        </button>
      )}
      <Problem error={error} />
    </section>
  );
}
