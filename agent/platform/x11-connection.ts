import x11, { type ShmProvider, type XClient, type XDisplay, type XExtensions, type XScreen } from 'x11';

/** One connection to an X display: the client, its first screen, and its extensions on demand. */
export interface X11Connection {
  client: XClient;
  display: XDisplay;
  screen: XScreen;
  /** Loads an extension on first use; rejects when the X server does not have it. */
  extension<Name extends keyof XExtensions>(name: Name): Promise<XExtensions[Name]>;
}

/**
 * Opens a connection to an X display (`:99`); rejects when it cannot be opened or has no screen.
 * `options.shm` makes its MIT-SHM segments (`sharedSegmentProvider`); the package's own otherwise.
 * The caller ends it with `client.terminate()` (at once) or `client.close()` (after a round trip).
 *
 * X errors of requests without a callback, and the socket's errors, are dropped unless the caller
 * listens to the client's 'error': the package would otherwise throw them out of the socket's
 * handler. Requests with a callback get their own error.
 *
 * @example
 * const connection = await openX11(':99');
 * connection.client.on('error', (error) => stop(`X error: ${error.message}`));
 * const damage = await connection.extension('damage');
 */
export function openX11(display: string, options: { shm?: ShmProvider } = {}): Promise<X11Connection> {
  return new Promise((resolve, reject) => {
    const refused = (error: Error) =>
      reject(new Error(`cannot open the X display ${display}: ${error.message}`, { cause: error }));
    const client = x11.createClient({ display, ...options }, (error, opened) => {
      if (error || !opened) {
        refused(error ?? new Error('no display'));
        return;
      }
      const screen = opened.screen[0];
      if (!screen) {
        opened.client.terminate();
        reject(new Error(`the X display ${display} has no screen`));
        return;
      }
      resolve({
        client: opened.client,
        display: opened,
        screen,
        extension: (name) =>
          new Promise((resolveExtension, rejectExtension) =>
            opened.client.require(name, (extensionError, extension) =>
              extensionError ? rejectExtension(extensionError) : resolveExtension(extension),
            ),
          ),
      });
    });
    // Stays after set-up (a settled promise ignores it): the errors nobody else listens to go here.
    client.on('error', refused);
  });
}
