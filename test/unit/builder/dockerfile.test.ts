import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNameVal, processWord, processWords } from '../../../src/builder/dockerfile/shell.ts';
import { parseDockerfile } from '../../../src/builder/dockerfile/parse.ts';

const vars = new Map([
  ['A', 'one'],
  ['E', ''],
  ['S', 'a b'],
]);

test('processWord: variables, defaults, alternatives, quotes and escapes', () => {
  assert.equal(processWord('$A', vars), 'one');
  assert.equal(processWord('${A}x', vars), 'onex');
  assert.equal(processWord('${NOPE:-def}', vars), 'def');
  assert.equal(processWord('${E:-def}', vars), 'def');
  assert.equal(processWord('${E-def}', vars), '');
  assert.equal(processWord('${A:+alt}', vars), 'alt');
  assert.equal(processWord('${E:+alt}', vars), '');
  assert.equal(processWord('${NOPE:-${A}}', vars), 'one');
  assert.equal(processWord("'$A'", vars), '$A');
  assert.equal(processWord('"$A b"', vars), 'one b');
  assert.equal(processWord('\\$A', vars), '$A');
  assert.equal(processWord('"a\\"b"', vars), 'a"b');
  assert.equal(processWord('$', vars), '$');
  assert.throws(() => processWord('${NOPE:?must be set}', vars), /NOPE: must be set/);
  assert.throws(() => processWord('"open', vars), /double-quote/);
});

test('processWords: split on unquoted blanks and unquoted expansions', () => {
  assert.deepEqual(processWords('a "b c" $S', vars), ['a', 'b c', 'a', 'b']);
  assert.deepEqual(processWords('"$S" ""', vars), ['a b', '']);
  assert.deepEqual(processWords('`x` \\ y', vars, '`'), ['x \\', 'y']);
});

test('parseNameVal: key=value pairs with quotes, and the legacy form', () => {
  assert.deepEqual(parseNameVal('A=1 B="two words" C=3', 'ENV'), [
    ['A', '1'],
    ['B', '"two words"'],
    ['C', '3'],
  ]);
  assert.deepEqual(parseNameVal('KEY some value', 'ENV'), [['KEY', 'some value']]);
  assert.throws(() => parseNameVal('A=1 B', 'ENV'), /can't find =/);
});

test('parseDockerfile: stages, continuations, flags, JSON form, heredocs, directives', () => {
  const df = parseDockerfile(
    [
      '# escape=\\',
      'ARG BASE=busybox',
      'FROM ${BASE} AS build',
      'ENV A=1 \\',
      '    B=2',
      'RUN echo hi && \\',
      '# a comment inside',
      '    echo there',
      'COPY --chown=1:2 --chmod=755 a b /dst/',
      'RUN ["sh", "-c", "echo json"]',
      'RUN <<EOF',
      'echo heredoc',
      'EOF',
      'COPY <<-"EOT" /x',
      '\tcontent $A',
      '\tEOT',
      'FROM scratch',
      'COPY --from=build /dst /',
    ].join('\n'),
  );
  assert.equal(df.metaArgs.length, 1);
  assert.equal(df.stages.length, 2);
  const [build, final] = df.stages;
  assert.equal(build.name, 'build');
  const [env, run, copy, json, heredoc, copyDoc] = build.instructions;
  assert.equal(env.keyword, 'ENV');
  assert.match(env.args, /^A=1\s+B=2$/);
  assert.match(run.args, /^echo hi &&\s+echo there$/);
  assert.deepEqual(copy.flags, [
    { name: 'chown', value: '1:2' },
    { name: 'chmod', value: '755' },
  ]);
  assert.equal(copy.args, 'a b /dst/');
  assert.equal(copy.original, 'COPY --chown=1:2 --chmod=755 a b /dst/');
  assert.deepEqual(json.json, ['sh', '-c', 'echo json']);
  assert.equal(heredoc.args, '<<EOF');
  assert.deepEqual(heredoc.heredocs, [{ name: 'EOF', content: 'echo heredoc\n', quoted: false }]);
  assert.deepEqual(copyDoc.heredocs, [{ name: 'EOT', content: 'content $A\n', quoted: true }]);
  assert.equal(copyDoc.args, '<<-"EOT" /x');
  assert.equal(final.name, undefined);
  assert.equal(final.instructions[0].flags[0].value, 'build');
});

test('parseDockerfile: errors name the line', () => {
  assert.throws(() => parseDockerfile('FROM busybox\nFOO bar\n'), /line 2: unknown instruction: FOO/);
  assert.throws(() => parseDockerfile('RUN true\n'), /before the first FROM/);
  assert.throws(() => parseDockerfile('# nothing\n'), /no FROM/);
});

test('parseDockerfile: the escape directive changes the line-continuation character', () => {
  const df = parseDockerfile(['# escape=`', 'FROM busybox', 'RUN echo a `', '    b', 'COPY C:\\dir\\file /x', ''].join('\n'));
  assert.equal(df.escape, '`');
  const [run, copy] = df.stages[0].instructions;
  assert.match(run.args, /^echo a\s+b$/);
  assert.equal(copy.args, 'C:\\dir\\file /x');
  assert.deepEqual(processWords(copy.args, new Map(), df.escape), ['C:\\dir\\file', '/x']);
});
