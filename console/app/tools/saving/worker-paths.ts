/**
 * Where the console's download service worker lives and the URLs it answers. The server serves the
 * worker at {@link DOWNLOAD_WORKER_PATH}; a worker's scope may not reach above its own folder, so
 * the download URLs sit under the same `/assets/` folder.
 */
export const DOWNLOAD_WORKER_PATH = '/assets/download-worker.js';

/** Every download the worker streams is `<scope><id>/<name>`. */
export const DOWNLOAD_SCOPE = '/assets/downloads/';
