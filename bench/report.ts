// What the bench prints: its progress lines, the rows and notes it gathers, and their table.
import { type Budget, describeBudget, type Sample } from './stats.ts';

type Row = {
  /** The figure group that measured it (`front`, `npm-start`, …), for --enforce. */
  group: string;
  figure: string;
  subject: string;
  floor: string;
  ratio?: number;
  budget?: Budget;
  ok?: boolean;
};
export const rows: Row[] = [];
export const notes: string[] = [];
export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

export const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const spread = (s: Sample, unit: string) =>
  s.runs > 1
    ? `${fmt(s.median)} ${unit} (${fmt(s.min)}-${fmt(s.max)}, ${s.runs} runs)`
    : `${fmt(s.median)} ${unit}`;

export function table(): string {
  const header = ['figure', 'subject', 'floor (same run)', 'ratio', 'budget', 'result'];
  const body = rows.map((row) => [
    row.figure,
    row.subject,
    row.floor,
    row.ratio === undefined ? '-' : `${fmt(row.ratio, 2)}${row.budget?.kind === 'atMost' ? 'x' : ''}`,
    row.budget ? describeBudget(row.budget) : 'printed',
    row.ok === undefined ? '-' : row.ok ? 'ok' : 'BROKEN',
  ]);
  return [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
