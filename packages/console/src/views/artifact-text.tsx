import { useEffect, useState } from 'preact/hooks';
import { verb } from '../api.js';
import { Problem } from '../components.js';

const SHOWN_BYTES = 256 * 1024;

interface Chunk {
  content: string;
  encoding: 'utf8' | 'base64';
  size: number;
}

/** The first part of a recorded artifact as text (shown, never interpreted); `lines` numbers its lines. */
export function ArtifactText({ runId, digest, label, lines }: { runId: string; digest: string; label?: string; lines?: boolean }) {
  const [chunk, setChunk] = useState<Chunk | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    verb<Chunk>('artifacts.get', { runId, digest, offset: 0, length: SHOWN_BYTES }).then(setChunk, setError);
  }, [runId, digest]);
  if (error) return <Problem error={error} />;
  if (!chunk) return <p class="muted small">Loading…</p>;
  const text = chunk.encoding === 'utf8' ? chunk.content : '(binary content)';
  const more = chunk.size > SHOWN_BYTES ? `… ${chunk.size - SHOWN_BYTES} more bytes not shown` : null;
  return (
    <figure class="artifact">
      {label && <figcaption>{label}</figcaption>}
      {lines ? (
        <ol class="log">
          {text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ol>
      ) : (
        <pre class="text">{text}</pre>
      )}
      {more && <p class="muted small">{more}</p>}
    </figure>
  );
}
