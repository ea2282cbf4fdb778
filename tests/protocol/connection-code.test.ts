import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONNECTION_CODE_DIGITS,
  formatConnectionCode,
  normalizeConnectionCode,
} from '../../protocol/index.ts';

describe('connection codes', () => {
  it('a code is grouped in threes for reading aloud', () => {
    assert.equal(CONNECTION_CODE_DIGITS, 9);
    assert.equal(formatConnectionCode('123456789'), '123 456 789');
    assert.equal(formatConnectionCode('000000001'), '000 000 001');
  });

  it('spaces, dashes and dots people type between digits are removed', () => {
    for (const typed of [
      '123456789',
      '123 456 789',
      '123-456-789',
      '123.456.789',
      ' 123 456 789 ',
      '12 34 56 789',
      '123\t456\n789',
      '1-2-3-4-5-6-7-8-9',
    ]) {
      assert.equal(normalizeConnectionCode(typed), '123456789', JSON.stringify(typed));
    }
  });

  it('leading zeros are part of the code', () => {
    assert.equal(normalizeConnectionCode('000 000 001'), '000000001');
  });

  it('anything that is not exactly nine ASCII digits is not a code', () => {
    for (const typed of [
      '',
      '   ',
      '12345678',
      '1234567890',
      '123 456 78a',
      'abcdefghi',
      '123_456_789',
      '123/456/789',
      '+12345678',
      '１２３４５６７８９', // full-width digits
      '١٢٣٤٥٦٧٨٩', // Arabic-Indic digits
      '123456789\u0000',
    ]) {
      assert.equal(normalizeConnectionCode(typed), undefined, JSON.stringify(typed));
    }
  });

  it('normalizing a formatted code gives the code back', () => {
    for (let i = 0; i < 200; i++) {
      const code = String(Math.floor(Math.random() * 10 ** 9)).padStart(9, '0');
      assert.equal(normalizeConnectionCode(formatConnectionCode(code)), code);
    }
  });
});
