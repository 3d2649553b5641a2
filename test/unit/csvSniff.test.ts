import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectDelimiter, detectEncoding, firstRaggedRow, scanUtf8 } from '../../src/datasets/csvSniff';

test('the encoding comes from the byte-order mark, zero bytes, or whether the bytes are UTF-8', () => {
  assert.equal(detectEncoding(Buffer.from('a,b\n1,2\n'), true), 'utf-8');
  assert.equal(detectEncoding(Buffer.from('\uFEFFname\nJosé\n'), true), 'utf-8');
  assert.equal(
    detectEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')]), true),
    'utf-16',
  );
  assert.equal(detectEncoding(Buffer.from('name,city\nJosé,Zürich\n', 'utf16le'), true), 'utf-16');
  assert.equal(detectEncoding(Buffer.from([0xfe, 0xff, 0, 0x61]), true), 'utf-16be');
  assert.equal(detectEncoding(Buffer.from('name,city\nJosé,Zürich\n', 'latin1'), true), 'latin-1');
});

test('a character cut at the end of the first bytes is not taken for another encoding', () => {
  const text = Buffer.from('city\nZürich');
  const cut = text.subarray(0, text.indexOf(0xc3) + 1);
  assert.equal(detectEncoding(cut, false), 'utf-8');
  assert.equal(detectEncoding(cut, true), 'latin-1');
});

test('the delimiter is the one that splits the header most, outside quotes', () => {
  assert.equal(detectDelimiter('a,b,c\n1,2,3\n'), ',');
  assert.equal(detectDelimiter('a;b;c\n1;2,5;3\n'), ';');
  assert.equal(detectDelimiter('a\tb\n1\t2\n'), '\t');
  assert.equal(detectDelimiter('a|b\n1|2\n'), '|');
  assert.equal(detectDelimiter('"x,y";b;c\n'), ';');
  assert.equal(detectDelimiter('single\n1\n'), ',');
});

test('the first ragged row is found with its line, and quoted line breaks are not rows', () => {
  assert.deepEqual(firstRaggedRow('a,b,c\n1,2,3\n4,5\n6,7,8,9\n', ',', true), { line: 3, fields: 2, expected: 3 });
  assert.deepEqual(firstRaggedRow('a,b\n1,"two\nlines"\n3,4,5\n', ',', true), { line: 4, fields: 3, expected: 2 });
  assert.equal(firstRaggedRow('a,b\n1,"x,y"\n3,4\n\n', ',', true), undefined);
  assert.equal(firstRaggedRow('a,b\r\n1,2\r\n', ',', true), undefined);
  // Only the start of the file: its last line may be cut, and is not judged.
  assert.equal(firstRaggedRow('a,b,c\n1,2,3\n4,5', ',', false), undefined);
});

test('invalid UTF-8 is found at its first byte; a character cut at the end waits for the next bytes', () => {
  assert.deepEqual(scanUtf8(Buffer.from('Zürich'), true), { validUpTo: 7 });
  const latin = Buffer.concat([Buffer.from('ab\n'), Buffer.from('ü', 'latin1'), Buffer.from('c')]);
  assert.deepEqual(scanUtf8(latin, true), { invalidAt: 3, validUpTo: 3 });
  const cut = Buffer.from('aü').subarray(0, 2);
  assert.deepEqual(scanUtf8(cut, false), { validUpTo: 1 });
  assert.deepEqual(scanUtf8(cut, true), { invalidAt: 1, validUpTo: 1 });
  // An overlong encoding of '/' and a UTF-16 surrogate are not UTF-8.
  assert.equal(scanUtf8(Buffer.from([0xc0, 0xaf]), true).invalidAt, 0);
  assert.equal(scanUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80]), true).invalidAt, 1);
});
