import { z } from 'zod';

// The protocol's schemas compile validators with `new Function` unless zod is told not to. The
// console runs under `script-src 'self'`, where that probe is refused and reported as a CSP
// violation. This module must be imported before anything that builds a schema.
z.config({ jitless: true });
