import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { IniSyntaxError, parseIni } from '../../src/config/ini.js';

const obj = (text: string) => Object.fromEntries([...parseIni(text, 'test.conf')].map(([s, opts]) => [s, Object.fromEntries(opts)]));

describe('parseIni', () => {
  it('reads sections, both separators, comments and quotes', () => {
    const text = [
      '# a comment',
      '; another',
      '[DEFAULT]',
      'debug=true',
      "transport_url = 'fake:/'",
      '[database]',
      'connection: "sqlite://"',
      'url = http://h:5000/v3',
      'ratio: a=b',
      'empty =',
      '#commented = 1',
    ].join('\n');
    expect(obj(text)).toEqual({
      DEFAULT: { debug: ['true'], transport_url: ['fake:/'] },
      database: {
        connection: ['sqlite://'],
        url: ['http://h:5000/v3'],
        ratio: ['a=b'],
        empty: [''],
      },
    });
  });

  it('keeps section names as written and values verbatim (no inline comments)', () => {
    expect(obj('[Flask]\nPort = 1 # not a comment\n')).toEqual({ Flask: { Port: ['1 # not a comment'] } });
  });

  it('joins continuation lines with newlines; a blank line ends the value', () => {
    const text = '[s]\nmulti = first\n  second\n\tthird\n\nnext = x\n';
    expect(obj(text)).toEqual({ s: { multi: ['first\nsecond\nthird'], next: ['x'] } });
  });

  it('treats an indented comment as continuation, as oslo.config does', () => {
    expect(obj('[s]\nk = v\n  # more\n')).toEqual({ s: { k: ['v\n# more'] } });
  });

  it('collects repeated keys in order and merges repeated sections', () => {
    const text =
      '[oslo_messaging_notifications]\ndriver = messagingv2\ndriver = log\n[other]\n[oslo_messaging_notifications]\ndriver = noop\n';
    expect(obj(text)).toEqual({
      oslo_messaging_notifications: { driver: ['messagingv2', 'log', 'noop'] },
      other: {},
    });
  });

  it('accepts CRLF line endings', () => {
    expect(obj('[s]\r\nk = v\r\n')).toEqual({ s: { k: ['v'] } });
  });

  it.each([
    ['[s]\n  cont', 2, 'Unexpected continuation line'],
    ['  cont', 1, 'Unexpected continuation line'],
    ['[s]\n\n  cont', 3, 'Unexpected continuation line'],
    ['[s]\nnovalue', 2, "No ':' or '=' found"],
    ['[s]\n= 5', 2, 'Key cannot be empty'],
    ['[s\nk = 1', 1, 'Invalid section'],
    ['# c\n[]\n', 2, 'Empty section name'],
    ['k = 1', 1, 'Section must be started before assignment'],
  ])('reports %j at line %i', (text, line, message) => {
    let error: unknown;
    try {
      parseIni(text, '/etc/warre/warre.conf');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IniSyntaxError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as IniSyntaxError).line).toBe(line);
    expect((error as Error).message).toContain(`/etc/warre/warre.conf:${line}: ${message}`);
  });

  it('round-trips generated files', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
    const value = fc.stringMatching(/^[^\s'"#;][^\n\r]{0,20}[^\s'"]$/);
    const file = fc.dictionary(name, fc.dictionary(name, fc.array(value, { minLength: 1, maxLength: 3 })));
    fc.assert(
      fc.property(file, (sections) => {
        const text = Object.entries(sections)
          .map(([s, opts]) => [`[${s}]`, ...Object.entries(opts).flatMap(([k, vs]) => vs.map((v) => `${k} = ${v}`))].join('\n'))
          .join('\n\n');
        expect(obj(text)).toEqual(sections);
      }),
    );
  });
});
