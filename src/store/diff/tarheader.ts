// A tar header encoder (ustar, with a PAX extended header when ustar cannot say it). Written by
// hand because tar-stream's packer writes PAX values as UTF-8 text: binary xattr values such as
// `security.capability` would be corrupted, and it cannot write uids/sizes past ustar's octal
// fields. Reading stays with tar-stream (src/store/diff/apply.ts).

export type TarEntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

export interface TarEntryHeader {
  /** Entry name, `/`-separated, without a leading `/` (a directory's trailing `/` is added here). */
  name: string;
  type: TarEntryType;
  /** Permission bits plus setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes that follow (regular files only). */
  size: number;
  /** Modification time in whole seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as PAX `SCHILY.xattr.<name>` records (values are raw bytes). */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType | 'pax', string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  pax: 'x',
};

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

/** Split a name into ustar's prefix (≤155) and name (≤100) at a `/`, if possible. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (rest.length === 0 || rest.length > 100) return undefined;
    if (prefix.length <= 155) return { prefix, name: rest };
  }
  return undefined;
}

/** One PAX record: `<len> <key>=<value>\n`, where len counts itself. */
function paxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), typeof value === 'string' ? Buffer.from(value) : value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function writeString(buf: Buffer, s: string, offset: number, length: number): void {
  buf.write(s, offset, length, 'latin1');
}

/** Octal field of `length` bytes (digits then NUL); false if the value does not fit. */
function writeOctal(buf: Buffer, value: number, offset: number, length: number): boolean {
  const s = Math.trunc(value).toString(8);
  if (value < 0 || s.length > length - 1) return false;
  buf.write(s.padStart(length - 1, '0') + '\0', offset, length, 'latin1');
  return true;
}

function ustarBlock(h: { name: string; prefix: string; type: TarEntryType | 'pax'; mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; devmajor: number; devminor: number }): Buffer {
  const buf = Buffer.alloc(BLOCK);
  writeString(buf, h.name, 0, 100);
  writeOctal(buf, h.mode & 0o7777, 100, 8);
  writeOctal(buf, h.uid, 108, 8);
  writeOctal(buf, h.gid, 116, 8);
  writeOctal(buf, h.size, 124, 12);
  writeOctal(buf, h.mtime, 136, 12);
  buf.write(TYPEFLAG[h.type], 156, 1, 'latin1');
  writeString(buf, h.linkname, 157, 100);
  buf.write('ustar\u000000', 257, 8, 'latin1');
  writeOctal(buf, h.devmajor, 329, 8);
  writeOctal(buf, h.devminor, 337, 8);
  writeString(buf, h.prefix, 345, 155);
  buf.fill(' ', 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return buf;
}

/**
 * The header block(s) of one entry: a PAX header first when the name, link target, ids, size or
 * xattrs do not fit ustar. Deterministic: the same header always encodes to the same bytes.
 */
export function encodeTarHeader(h: TarEntryHeader): Buffer {
  const name = h.type === 'directory' && !h.name.endsWith('/') ? h.name + '/' : h.name;
  const linkname = h.linkname ?? '';
  const records: Buffer[] = [];
  const split = splitUstarName(name);
  if (!split) records.push(paxRecord('path', name));
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  if (!linkFits) records.push(paxRecord('linkpath', linkname));
  const MAX7 = 0o7777777;
  if (h.uid > MAX7) records.push(paxRecord('uid', String(h.uid)));
  if (h.gid > MAX7) records.push(paxRecord('gid', String(h.gid)));
  if (h.size > 0o77777777777) records.push(paxRecord('size', String(h.size)));
  for (const key of [...(h.xattrs?.keys() ?? [])].sort()) records.push(paxRecord(`SCHILY.xattr.${key}`, h.xattrs!.get(key)!));

  const fixed = {
    name: split ? split.name : asciiFallback(name, 100),
    prefix: split ? split.prefix : '',
    type: h.type,
    mode: h.mode,
    uid: h.uid > MAX7 ? 0 : h.uid,
    gid: h.gid > MAX7 ? 0 : h.gid,
    size: h.size > 0o77777777777 ? 0 : h.size,
    mtime: Math.max(0, Math.trunc(h.mtime)),
    linkname: linkFits ? linkname : asciiFallback(linkname, 100),
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
  if (records.length === 0) return ustarBlock(fixed);
  const pax = Buffer.concat(records);
  const paxHeader = ustarBlock({ ...fixed, name: asciiFallback(`PaxHeaders/${fixed.name}`, 100), prefix: '', type: 'pax', size: pax.length, linkname: '', devmajor: 0, devminor: 0, uid: fixed.uid, gid: fixed.gid });
  return Buffer.concat([paxHeader, pax, tarPadding(pax.length), ustarBlock(fixed)]);
}

/** A ustar-safe stand-in for a name that a PAX record carries in full. */
function asciiFallback(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x01-\x7f]/g, '_').slice(-max);
}
