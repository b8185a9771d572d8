import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, goJson } from '../../../src/cli/format/template.ts';
import { alignColumns, formatList } from '../../../src/cli/format/table.ts';
import { containerStatusText, ellipsis, goQuote } from '../../../src/cli/format/status.ts';
import { apiTimestamp, rfc3339Nano } from '../../../src/cli/format/time.ts';
import { psRow, PS_HEADERS } from '../../../src/cli/commands/container/ls.ts';
import type { ContainerState, ContainerSummary } from '../../../src/types/docker.ts';

const run = (tpl: string, data: unknown): string => compileTemplate(tpl).execute(data);

test('template: fields, nesting, json, index, join, range, if, pipes', () => {
  const data = { Name: 'x', State: { Status: 'running', Pid: 42 }, Labels: { 'a.b': 'c' }, Names: ['n1', 'n2'], Config: { Env: null, Cmd: ['sh'] } };
  assert.equal(run('{{.Name}}', data), 'x');
  assert.equal(run('{{.State.Status}}/{{.State.Pid}}', data), 'running/42');
  assert.equal(run('{{json .Config}}', data), '{"Env":null,"Cmd":["sh"]}');
  assert.equal(run('{{index .Labels "a.b"}}', data), 'c');
  assert.equal(run('{{join .Names ","}}', data), 'n1,n2');
  assert.equal(run('{{range .Names}}[{{.}}]{{end}}', data), '[n1][n2]');
  assert.equal(run('{{if .Config.Env}}env{{else}}noenv{{end}}', data), 'noenv');
  assert.equal(run('{{.Name | upper}}', data), 'X');
  assert.equal(run('{{.Missing}}', data), '<no value>');
  assert.equal(run('{{range $.Names -}}  {{.}} {{- end}}', data), 'n1n2');
  assert.equal(run('{{.Labels}}', data), 'map[a.b:c]');
  assert.equal(goJson({ c: 'a>b' }), '{"c":"a\\u003eb"}');
  assert.throws(() => compileTemplate('{{nosuchfunc .}}'), /function "nosuchfunc" not defined/);
});

test('table: tabwriter widths (min 10, padding 3), last cell unpadded', () => {
  assert.equal(alignColumns('A\tLONGER HEADER\tZ\nvalue\tv\t'), 'A         LONGER HEADER   Z\nvalue     v               ');
});

test('formatList: table headers from field names, plain templates per line', () => {
  const rows = [{ ID: 'abc', Names: 'n' }];
  assert.equal(formatList({ format: undefined, defaultTable: '{{.ID}}\\t{{.Names}}', headers: PS_HEADERS, rows }), 'CONTAINER ID   NAMES\nabc            n\n');
  assert.equal(formatList({ format: '{{.ID}}:{{.Names}}', defaultTable: '', headers: PS_HEADERS, rows }), 'abc:n\n');
  assert.equal(formatList({ format: 'json', defaultTable: '', headers: PS_HEADERS, rows }), '{"ID":"abc","Names":"n"}\n');
});

test('ps row: quoted truncated command, names without slash, ago', () => {
  const now = Date.parse('2026-11-22T16:31:00Z');
  const c = {
    Id: 'a254f82a18db763829e3b23d80d3fe4d1f99b12d4a937466b8ed2f36005c7c03',
    Names: ['/flagc'],
    Image: 'busybox:local',
    Command: "/bin/sh -c 'echo hi; sleep 1000000'",
    Created: Math.floor(now / 1000) - 150,
    Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
    Labels: { a: 'b' },
    State: 'created',
    Status: 'Created',
    Mounts: [],
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: {} },
  } as unknown as ContainerSummary;
  const row = psRow(c, { noTrunc: false, now });
  assert.equal(row.ID, 'a254f82a18db');
  assert.equal(row.Command, `"/bin/sh -c 'echo hi…"`);
  assert.equal(row.Names, 'flagc');
  assert.equal(row.RunningFor, '3 minutes ago');
  assert.equal(row.Ports, '0.0.0.0:8080->80/tcp');
  assert.equal(row.Labels, 'a=b');
});

test('status texts, quoting, ellipsis', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const base: ContainerState = {
    Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 1, ExitCode: 0, Error: '', StartedAt: '2026-01-01T00:00:57Z', FinishedAt: '0001-01-01T00:00:00Z',
  };
  assert.equal(containerStatusText(base, now), 'Up 3 seconds');
  assert.equal(containerStatusText({ ...base, Running: false, Status: 'exited', ExitCode: 0, FinishedAt: '2026-01-01T00:00:55Z' }, now), 'Exited (0) 5 seconds ago');
  assert.equal(containerStatusText({ ...base, Running: false, Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }, now), 'Created');
  assert.equal(goQuote('sh -c "x"'), '"sh -c \\"x\\""');
  assert.equal(ellipsis('abcdef', 4), 'abc…');
});

test('time: --since values and event timestamps', () => {
  const now = Date.parse('2026-11-22T16:31:00Z');
  assert.equal(apiTimestamp('2m', now), String(now / 1000 - 120));
  assert.equal(apiTimestamp('1795362184', now), '1795362184');
  assert.equal(apiTimestamp('2026-11-22T16:00:00Z', now), `${Date.parse('2026-11-22T16:00:00Z') / 1000}.000000000`);
  assert.equal(rfc3339Nano(1795362188908065298n), '2026-11-22T15:43:08.908065298Z');
});
