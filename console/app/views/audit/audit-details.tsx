import { changes, valueText } from '../../format/changes.ts';
import { type Directory, nameFor } from './directory.ts';

/** Keys shown as a before → after change rather than as plain values. */
const CHANGE_KEYS = new Set(['before', 'after']);

/**
 * An event's details: a before/after pair as the list of what changed (`audit-diff`), every other
 * field as `name: value`.
 */
export function AuditDetails({
  details,
  directory,
}: {
  details: Record<string, unknown> | null;
  directory: Directory;
}) {
  if (!details || Object.keys(details).length === 0) return <span class="cell-sub">—</span>;
  const hasChange = 'before' in details && 'after' in details;
  const diff = hasChange ? changes(details['before'], details['after']) : [];
  const rest = Object.entries(details).filter(([key]) => !hasChange || !CHANGE_KEYS.has(key));
  return (
    <div class="audit-details">
      {rest.length > 0 && (
        <dl class="audit-details__fields">
          {rest.map(([key, value]) => {
            const name = nameFor(key, value, directory);
            return (
              <div key={key} class="audit-details__field">
                <dt>{name ? key.replace(/Id$/, '') : key}</dt>
                <dd title={name ? valueText(value) : undefined}>{name ?? valueText(value)}</dd>
              </div>
            );
          })}
        </dl>
      )}
      {hasChange && (
        <ul class="audit-diff" data-testid="audit-diff">
          {diff.length === 0 && <li class="cell-sub">No change</li>}
          {diff.map((change) => (
            <li key={change.path} class="audit-diff__item">
              {change.path && <span class="audit-diff__path">{change.path}</span>}
              <span class="audit-diff__before">{valueText(change.before)}</span>
              <span class="audit-diff__arrow" aria-hidden="true">
                →
              </span>
              <span class="audit-diff__after">{valueText(change.after)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
