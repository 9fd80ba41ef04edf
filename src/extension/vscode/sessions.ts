/** The sessions open in this window: one SessionStore per file, flushed on a timer and on close. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SESSION_EXTENSION, SessionStore } from '../store/sessionStore';

export class OpenSessions implements vscode.Disposable {
  private readonly stores = new Map<string, SessionStore>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private warnedAboutFlush = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Opens a session file, or returns it when it is already open. */
  async open(file: string, create = false): Promise<SessionStore> {
    const existing = this.stores.get(file);
    if (existing) return existing;
    const store = await SessionStore.open(file, {
      create,
      flushIntervalMs: flushIntervalMs(),
      onFlushError: (error) => this.reportFlushError(file, error),
    });
    this.stores.set(file, store);
    this.log.info(`opened session ${file}`);
    this.changed.fire();
    void vscode.commands.executeCommand('setContext', 'bathysphere.hasSession', true);
    return store;
  }

  /** Tells views that a session's contents changed (a recording added runs or steps). */
  refresh(): void {
    this.changed.fire();
  }

  get(file: string): SessionStore | undefined {
    return this.stores.get(file);
  }

  all(): SessionStore[] {
    return [...this.stores.values()];
  }

  async close(file: string): Promise<void> {
    const store = this.stores.get(file);
    if (!store) return;
    this.stores.delete(file);
    await store.close();
    this.log.info(`closed session ${file}`);
    this.changed.fire();
    void vscode.commands.executeCommand(
      'setContext',
      'bathysphere.hasSession',
      this.stores.size > 0,
    );
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.stores.keys()].map((file) => this.close(file)));
  }

  private reportFlushError(file: string, error: Error): void {
    this.log.error(error.message);
    // One notification per file until a save succeeds again; the log keeps every failure.
    if (this.warnedAboutFlush.has(file)) return;
    this.warnedAboutFlush.add(file);
    void vscode.window.showWarningMessage(`Bathysphere: ${error.message}`);
  }

  dispose(): void {
    void this.closeAll();
    this.changed.dispose();
  }
}

function flushIntervalMs(): number {
  const seconds = vscode.workspace
    .getConfiguration('bathysphere')
    .get<number>('session.flushIntervalSeconds', 2);
  return Math.max(0.2, seconds) * 1000;
}

/**
 * Where a new recording goes: `.bathysphere/sessions/<name>-<time>.bathy` in the
 * first workspace folder (the current directory without one).
 */
export function newSessionFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  const safeName = name.replace(/[^\w.@-]/g, '_');
  return path.join(folder, '.bathysphere', 'sessions', `${safeName}-${stamp}${SESSION_EXTENSION}`);
}
