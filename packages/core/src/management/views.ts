/**
 * Read-only management views that route modules add (`gateway.views.add()`): the management API serves each
 * at `GET /views/<name>?<filter>=…`, and `wsgate ctl <name> --<filter> VALUE` prints it as a table or JSON —
 * as Kamailio's modules add their own `kamcmd` commands (`ul.dump`, `dlg.list`).
 */
import { WsgateError } from '../errors.js';

/** One row of a view: flat, so that ctl can print it as a table row. */
export type ViewRow = Readonly<Record<string, string | number | boolean | null>>;

/** The filter a view is asked with: keys among its `filters`, each given once. */
export type ViewFilter = Readonly<Record<string, string>>;

export interface ManagementView {
  /** Lower-case letters, digits and `-`: the path segment of `GET /views/<name>` and the ctl command. */
  readonly name: string;
  /** One line: what a row is (`GET /views` and `wsgate ctl views` show it). */
  readonly help: string;
  /** The filter keys the view takes; a request with another key is refused (400) with these named. */
  readonly filters: readonly string[];
  /** The rows that match `filter`, in the order to show them. Never changes anything. */
  list(filter: ViewFilter): readonly ViewRow[] | Promise<readonly ViewRow[]>;
}

/** A view as `GET /views` lists it. */
export interface ViewInfo {
  readonly name: string;
  readonly help: string;
  readonly filters: readonly string[];
}

/** A page of a view's rows, as `GET /views/<name>` answers. */
export interface ViewPage {
  readonly view: string;
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly rows: readonly ViewRow[];
}

/** How one route set added a view. */
export interface ViewHandle {
  /** Takes the view away, unless a newer route set (a reload) has added one of the same name since. */
  remove(): void;
}

/** ctl's own commands, and the paging keys: no view may take these names. */
export const RESERVED_VIEW_NAMES: ReadonlySet<string> = new Set(['status', 'list', 'show', 'close', 'ping', 'disable', 'enable', 'reload', 'views', 'help']);
export const PAGING_KEYS: ReadonlySet<string> = new Set(['offset', 'limit']);
const VIEW_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const FILTER_KEY = /^[a-z][a-zA-Z0-9-]{0,39}$/;

/** The views of one gateway. A route factory runs again on reload: the newer set's view replaces the older. */
export class ManagementViews {
  private readonly views = new Map<string, ManagementView>();

  /**
   * @throws WsgateError `WSGATE_API_MISUSE` for a name that is not lower-case letters, digits and `-`, one of
   * ctl's commands, or filter keys that are not such words (or `offset`/`limit`, which page every view)
   */
  add(view: ManagementView): ViewHandle {
    if (typeof view.name !== 'string' || !VIEW_NAME.test(view.name) || RESERVED_VIEW_NAMES.has(view.name)) {
      throw new WsgateError(
        'WSGATE_API_MISUSE',
        `view name ${JSON.stringify(view.name)}: use lower-case letters, digits and - (such as "registrations"), not one of ctl's commands (${[...RESERVED_VIEW_NAMES].join(', ')})`,
      );
    }
    for (const key of view.filters) {
      if (!FILTER_KEY.test(key) || PAGING_KEYS.has(key)) {
        throw new WsgateError('WSGATE_API_MISUSE', `view ${view.name}: filter ${JSON.stringify(key)}: use a word such as "user" (offset and limit page every view)`);
      }
    }
    if (typeof view.list !== 'function') throw new WsgateError('WSGATE_API_MISUSE', `view ${view.name}: list must be a function returning its rows`);
    const own = Object.freeze({ ...view, filters: Object.freeze([...view.filters]) });
    this.views.set(view.name, own);
    return { remove: () => void (this.views.get(view.name) === own && this.views.delete(view.name)) };
  }

  get(name: string): ManagementView | undefined {
    return this.views.get(name);
  }

  describe(): ViewInfo[] {
    return [...this.views.values()].map(({ name, help, filters }) => ({ name, help, filters })).sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * Checks a filter against a view's keys: a RangeError (the API's 400) naming the keys it takes.
 */
export function checkViewFilter(view: ManagementView, filter: ViewFilter): void {
  for (const key of Object.keys(filter)) {
    if (!view.filters.includes(key)) {
      const takes = view.filters.length === 0 ? 'it takes no filters' : `its filters are ${view.filters.join(', ')}`;
      throw new RangeError(`view ${view.name} has no filter "${key}": ${takes}`);
    }
  }
}

/** Which slice of a view to answer: as `/connections`, default 100 rows, at most 1000. */
export interface ViewPaging {
  readonly offset?: number | undefined;
  readonly limit?: number | undefined;
}

