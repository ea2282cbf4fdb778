/** How long the download link's object URL stays valid, in ms: long enough for the browser to start saving. */
const REVOKE_AFTER_MS = 60_000;

/**
 * Hands a Blob to the browser as a file download named `name`, through a temporary link.
 * @example
 * saveBlob(new Blob([bytes]), 'report.pdf');
 */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
