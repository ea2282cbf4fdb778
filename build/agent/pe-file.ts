import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * Just enough of the PE/COFF format (Windows executables) to check what the build produced and to
 * drop a signature the build invalidates: headers, sections, the resource tree, the certificate table.
 */

/** `IMAGE_FILE_MACHINE_AMD64`. */
export const PE_MACHINE_X64 = 0x8664;
/** Optional header magic of a PE32+ (64-bit) image. */
export const PE32_PLUS_MAGIC = 0x20b;
/** `RT_RCDATA`: raw application data, where postject puts the SEA blob. */
export const RT_RCDATA = 10;
/** Index of the certificate table (Authenticode signature) among the data directories. */
const SECURITY_DIRECTORY = 4;
/** Index of the resource table among the data directories. */
const RESOURCE_DIRECTORY = 2;

export interface PeSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
}

export interface PeHeaders {
  machine: number;
  optionalMagic: number;
  sections: PeSection[];
  /** RVA and size of each data directory; the security entry's "RVA" is a file offset. */
  directories: { rva: number; size: number }[];
  /** File offset of the data directory array, for patching an entry. */
  directoriesOffset: number;
}

/** Thrown for bytes that are not a well-formed PE image. */
export class PeFormatError extends Error {
  override readonly name = 'PeFormatError';
}

/** Reads the DOS stub, the PE signature, the COFF and optional headers and the section table. */
export function readPeHeaders(bytes: Uint8Array): PeHeaders {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) throw new PeFormatError('no MZ header');
  const pe = view.getUint32(0x3c, true);
  if (pe + 24 > bytes.length || view.getUint32(pe, false) !== 0x50450000)
    throw new PeFormatError('no PE signature');
  const machine = view.getUint16(pe + 4, true);
  const sectionCount = view.getUint16(pe + 6, true);
  const optionalSize = view.getUint16(pe + 20, true);
  const optional = pe + 24;
  const optionalMagic = view.getUint16(optional, true);
  if (optionalMagic !== PE32_PLUS_MAGIC) throw new PeFormatError('not a PE32+ image');
  const directoryCount = view.getUint32(optional + 108, true);
  const directoriesOffset = optional + 112;
  const directories = Array.from({ length: directoryCount }, (_, i) => ({
    rva: view.getUint32(directoriesOffset + i * 8, true),
    size: view.getUint32(directoriesOffset + i * 8 + 4, true),
  }));
  const sectionTable = optional + optionalSize;
  const sections = Array.from({ length: sectionCount }, (_, i): PeSection => {
    const at = sectionTable + i * 40;
    return {
      name: new TextDecoder().decode(bytes.subarray(at, at + 8)).replace(/\0+$/, ''),
      virtualSize: view.getUint32(at + 8, true),
      virtualAddress: view.getUint32(at + 12, true),
      rawSize: view.getUint32(at + 16, true),
      rawOffset: view.getUint32(at + 20, true),
    };
  });
  return { machine, optionalMagic, sections, directories, directoriesOffset };
}

function fileOffsetOf(headers: PeHeaders, rva: number): number {
  const section = headers.sections.find(
    (s) => rva >= s.virtualAddress && rva < s.virtualAddress + Math.max(s.virtualSize, s.rawSize),
  );
  if (!section) throw new PeFormatError(`RVA ${rva.toString(16)} is in no section`);
  return section.rawOffset + (rva - section.virtualAddress);
}

/**
 * The data of a named resource of type `type` (first language), as Windows' `FindResource` would
 * return it, or undefined when there is none.
 *
 * @example
 * const blob = findPeResource(bytes, RT_RCDATA, 'NODE_SEA_BLOB');
 */
export function findPeResource(bytes: Uint8Array, type: number, name: string): Uint8Array | undefined {
  const headers = readPeHeaders(bytes);
  const directory = headers.directories[RESOURCE_DIRECTORY];
  if (!directory || directory.size === 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = fileOffsetOf(headers, directory.rva);

  const entries = (dirOffset: number) => {
    const count = view.getUint16(dirOffset + 12, true) + view.getUint16(dirOffset + 14, true);
    return Array.from({ length: count }, (_, i) => {
      const at = dirOffset + 16 + i * 8;
      const nameField = view.getUint32(at, true);
      const target = view.getUint32(at + 4, true);
      let label: string | number = nameField;
      if (nameField & 0x80000000) {
        const stringAt = root + (nameField & 0x7fffffff);
        const length = view.getUint16(stringAt, true);
        label = new TextDecoder('utf-16le').decode(bytes.subarray(stringAt + 2, stringAt + 2 + length * 2));
      }
      return { label, isDirectory: (target & 0x80000000) !== 0, offset: root + (target & 0x7fffffff) };
    });
  };

  const typeEntry = entries(root).find((e) => e.label === type && e.isDirectory);
  if (!typeEntry) return undefined;
  const nameEntry = entries(typeEntry.offset).find(
    (e) => typeof e.label === 'string' && e.label.toUpperCase() === name.toUpperCase() && e.isDirectory,
  );
  if (!nameEntry) return undefined;
  const language = entries(nameEntry.offset).find((e) => !e.isDirectory);
  if (!language) return undefined;
  const dataRva = view.getUint32(language.offset, true);
  const size = view.getUint32(language.offset + 4, true);
  const start = fileOffsetOf(headers, dataRva);
  return bytes.subarray(start, start + size);
}

/**
 * Removes the Authenticode signature from a PE file in place. Injecting the SEA blob invalidates the
 * runtime's signature, and Windows treats a broken signature worse than none; the table sits at the
 * end of the file, so it is cut off and its directory entry zeroed.
 *
 * @returns the bytes removed (0 for an unsigned file).
 */
export function removePeSignature(path: string): number {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 64 * 1024));
    readSync(fd, head, 0, head.length, 0);
    const headers = readPeHeaders(head);
    const security = headers.directories[SECURITY_DIRECTORY];
    if (!security || security.size === 0) return 0;
    if (security.rva + security.size !== size)
      throw new PeFormatError('the certificate table is not at the end of the file');
    writeSync(fd, new Uint8Array(8), 0, 8, headers.directoriesOffset + SECURITY_DIRECTORY * 8);
    ftruncateSync(fd, security.rva);
    return security.size;
  } finally {
    closeSync(fd);
  }
}
