/**
 * Reads one data point of a synthesized alarm's metric math the way CloudWatch does, so a test
 * can ask what an alarm reads for given sums rather than compare its text. It knows the part of
 * the language our alarms use: numbers, ids (a metric's sum, or another query's expression),
 * + - * /, comparisons (1 or 0), FILL(x, value) and IF(condition, then, else). As CloudWatch does,
 * a missing metric is no data and a division by zero drops the point (the alarm then sees no data).
 */

type Query = { Id: string; Expression?: string; ReturnData?: boolean };
type Point = number | null;

/** What the alarm's returned expression reads when each metric id's sum is `sums[id]` (absent: no data). */
export function readAlarmMath(queries: readonly Query[], sums: Readonly<Record<string, number>>): Point {
  const byId = new Map(queries.map((query) => [query.Id, query]));
  const returned = queries.filter((query) => query.Expression !== undefined && query.ReturnData !== false);
  if (returned.length !== 1 || !returned[0]?.Expression) throw new Error('expected one returned expression');
  const pointOf = (id: string): Point => {
    const query = byId.get(id);
    if (!query) throw new Error(`unknown id ${id}`);
    return query.Expression === undefined ? (sums[id] ?? null) : evaluate(query.Expression, pointOf);
  };
  return evaluate(returned[0].Expression, pointOf);
}

function evaluate(expression: string, pointOf: (id: string) => Point): Point {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|[-+*/(),<>]/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw new Error(`expected ${expected ?? 'more'} at ${at} in ${expression}`);
    return token;
  };
  const both = (a: Point, b: Point, f: (x: number, y: number) => Point): Point =>
    a === null || b === null ? null : f(a, b);

  const comparison = (): Point => {
    let left = sum();
    while (['>=', '<=', '==', '!=', '<', '>'].includes(peek() ?? '')) {
      const op = take();
      const right = sum();
      left = both(left, right, (x, y) => {
        const result = { '>=': x >= y, '<=': x <= y, '==': x === y, '!=': x !== y, '<': x < y, '>': x > y }[
          op
        ];
        return result ? 1 : 0;
      });
    }
    return left;
  };
  const sum = (): Point => {
    let left = product();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const right = product();
      left = both(left, right, (x, y) => (op === '+' ? x + y : x - y));
    }
    return left;
  };
  const product = (): Point => {
    let left = unary();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      const right = unary();
      left = both(left, right, (x, y) => (op === '*' ? x * y : y === 0 ? null : x / y));
    }
    return left;
  };
  const unary = (): Point => {
    if (peek() === '-') {
      take();
      const value = unary();
      return value === null ? null : -value;
    }
    return primary();
  };
  const primary = (): Point => {
    const token = take();
    if (token === '(') {
      const value = comparison();
      take(')');
      return value;
    }
    if (/^\d/.test(token)) return Number(token);
    if (token === 'FILL' || token === 'IF') {
      take('(');
      const args = [comparison()];
      while (peek() === ',') {
        take(',');
        args.push(comparison());
      }
      take(')');
      const [first = null, second = null, third = null] = args;
      if (token === 'FILL') return first ?? second;
      if (first === null) return null;
      return first !== 0 ? (second ?? 0) : third;
    }
    return pointOf(token);
  };

  const value = comparison();
  if (at !== tokens.length) throw new Error(`unread ${tokens.slice(at).join(' ')} in ${expression}`);
  return value;
}
