export * from './own-stamp.ts';
export * from './packaged-run.ts';
export * from './pty-package.ts';
export * from './sea-assets.ts';
export * from './stamp-format.ts';
export * from './stamp-verify.ts';
export * from './work-dir.ts';
