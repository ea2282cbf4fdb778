import { ChannelFailure, isChannelFailure } from '../core/channel-failure.ts';

/**
 * The result code and words for a file system error on `wirePath`: the operator learns what went
 * wrong without a stack trace or the device's absolute paths.
 */
export function fsFailure(error: unknown, wirePath: string): ChannelFailure {
  if (isChannelFailure(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const name = wirePath || 'the shared folder';
  switch (code) {
    case 'ENOENT':
      return new ChannelFailure('FILE_NOT_FOUND', `${name} does not exist.`, { cause: error });
    case 'ENOTDIR':
      return new ChannelFailure('NOT_A_FOLDER', `${name}: a part of this path is not a folder.`, {
        cause: error,
      });
    case 'EISDIR':
      return new ChannelFailure('NOT_A_FILE', `${name} is a folder.`, { cause: error });
    case 'EEXIST':
      return new ChannelFailure('FILE_EXISTS', `${name} exists.`, { cause: error });
    case 'ENOTEMPTY':
      return new ChannelFailure('IO_ERROR', `${name} is not empty; only empty folders are deleted.`, {
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return new ChannelFailure('IO_ERROR', `${name}: permission denied on this computer.`, { cause: error });
    case 'ENOSPC':
      return new ChannelFailure('IO_ERROR', 'The disk of this computer is full.', { cause: error });
    default:
      return new ChannelFailure(
        'IO_ERROR',
        `${name}: ${code ?? (error instanceof Error ? error.message : 'failed')}.`,
        {
          cause: error,
        },
      );
  }
}

/** Runs a file system call, turning its failure into a `ChannelFailure` about `wirePath`. */
export async function attempt<T>(wirePath: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fsFailure(error, wirePath);
  }
}
