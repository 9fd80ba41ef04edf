/**
 * Connecting to Erlang nodes from VS Code: a picker fed by EPMD (free text for
 * other hosts), cookies kept in SecretStorage (never in settings or logs), a
 * status-bar item for the connected node, and disconnecting with or without
 * leaving the agent behind. The protocol itself lives in src/extension/erlang.
 */
import * as vscode from 'vscode';
import {
  CookieMissingError,
  CookieRejectedError,
  ErlangConnection,
  injectAgent,
  listNodes,
  parseNodeName,
  type ErlangAgent,
} from '../erlang';

export interface ConnectRequest {
  node: string;
  /** Skips the stored and default cookies (tests, automation). */
  cookie?: string;
}

export interface ErlangNodeStatus {
  node: string;
  state: 'connected' | 'down';
  agentLoadedBy?: string;
}

interface Live {
  node: string;
  connection: ErlangConnection;
  agent: ErlangAgent;
}

const SECRET_PREFIX = 'bathysphere.erlang.cookie:';

export class ErlangNodes implements vscode.Disposable {
  private live: Live | undefined;
  private lastStatus: ErlangNodeStatus | undefined;
  private readonly disconnected = new vscode.EventEmitter<string>();
  /** Fires with the node's name when its connection ends, by the person or by the node. */
  readonly onDidDisconnect = this.disconnected.event;
  private readonly statusItem = vscode.window.createStatusBarItem(
    'bathysphere.erlangNode',
    vscode.StatusBarAlignment.Left,
    50,
  );

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly agentBaseDir: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusItem.name = 'Bathysphere: Erlang node';
  }

  status(): ErlangNodeStatus | undefined {
    return this.lastStatus;
  }

  /** The connection in use, for features that run code on the node. */
  current(): Live | undefined {
    return this.live;
  }

  /**
   * Command: pick a node (or take one from the arguments), connect, inject the
   * agent. Resolves to what happened, for callers that automate it.
   */
  async connectCommand(request?: ConnectRequest): Promise<{ connected: boolean; error?: string }> {
    const node = request?.node ?? (await pickNode(this.log));
    if (!node) return { connected: false };
    try {
      await this.connect(node, request?.cookie);
      return { connected: this.live !== undefined };
    } catch (error) {
      const message = (error as Error).message;
      this.log.error(`connecting to ${node} failed: ${message}`);
      void vscode.window.showErrorMessage(`Bathysphere: ${message}`);
      return { connected: false, error: message };
    }
  }

  async connect(node: string, explicitCookie?: string): Promise<void> {
    await this.disconnect({ removeAgent: false, quiet: true });
    const fullName = qualify(node);
    const stored = await this.secrets.get(SECRET_PREFIX + fullName);
    // undefined stands for the cookie `erl` would use (~/.erlang.cookie).
    const candidates: (string | undefined)[] =
      explicitCookie !== undefined
        ? [explicitCookie]
        : stored !== undefined
          ? [stored, undefined]
          : [undefined];
    let connection: ErlangConnection | undefined;
    let cookieError: Error | undefined;
    for (const cookie of candidates) {
      try {
        connection = await this.withProgress(`Connecting to ${fullName}`, () =>
          this.open(fullName, cookie),
        );
        break;
      } catch (error) {
        if (!(error instanceof CookieRejectedError || error instanceof CookieMissingError))
          throw error;
        cookieError = error;
        this.log.warn(error.message);
      }
    }
    if (!connection && explicitCookie !== undefined) throw cookieError;
    if (!connection) {
      const typed = await vscode.window.showInputBox({
        title: `Cookie for ${fullName}`,
        prompt:
          "The node rejected the stored or default cookie. Bathysphere keeps the cookie you type in VS Code's secret storage.",
        password: true,
        ignoreFocusOut: true,
      });
      if (typed === undefined) return;
      connection = await this.withProgress(`Connecting to ${fullName}`, () =>
        this.open(fullName, typed),
      );
      await this.secrets.store(SECRET_PREFIX + fullName, typed);
    }
    await this.adopt(fullName, connection);
  }

  private async open(node: string, cookie: string | undefined): Promise<ErlangConnection> {
    this.log.info(
      `connecting to ${node} (${cookie === undefined ? 'default cookie' : 'cookie given'})`,
    );
    const connection = await ErlangConnection.connect({ node, cookie });
    this.log.info(`handshake with ${node} complete; joined as hidden node ${connection.selfNode}`);
    return connection;
  }

  private async adopt(node: string, connection: ErlangConnection): Promise<void> {
    let agent: ErlangAgent;
    try {
      agent = await injectAgent(connection, { baseDir: this.agentBaseDir });
    } catch (error) {
      connection.close('agent injection failed');
      throw error;
    }
    this.log.info(`agent on ${node}: ${agent.loadMethod}`);
    this.live = { node, connection, agent };
    connection.on('close', (reason) => this.onClosed(node, connection, reason));
    this.setStatus({ node, state: 'connected', agentLoadedBy: agent.loadMethod });
  }

  private onClosed(node: string, connection: ErlangConnection, reason: string): void {
    if (this.live?.connection !== connection) return;
    this.live = undefined;
    this.disconnected.fire(node);
    this.log.warn(`connection to ${node} ended: ${reason}`);
    this.setStatus({ node, state: 'down' });
    void vscode.window
      .showWarningMessage(
        `Bathysphere: the connection to ${node} ended (${reason}). What was recorded is kept.`,
        'Reconnect',
      )
      .then((choice) => {
        if (choice === 'Reconnect') void this.connectCommand({ node });
      });
  }

  /** Command: disconnect, asking whether to leave the agent loaded or remove every trace of it. */
  async disconnectCommand(options?: { removeAgent?: boolean }): Promise<void> {
    if (!this.live) {
      void vscode.window.showInformationMessage('Bathysphere: no Erlang node is connected.');
      return;
    }
    let removeAgent = options?.removeAgent;
    if (removeAgent === undefined) {
      const picked = await vscode.window.showQuickPick(
        [
          {
            label: 'Disconnect',
            description: 'the agent stops its processes; its modules stay loaded for next time',
            remove: false,
          },
          {
            label: 'Disconnect and leave nothing behind',
            description: 'stop the agent and purge its modules',
            remove: true,
          },
        ],
        { title: `Disconnect from ${this.live.node}` },
      );
      if (!picked) return;
      removeAgent = picked.remove;
    }
    await this.disconnect({ removeAgent });
  }

  private async disconnect(options: { removeAgent: boolean; quiet?: boolean }): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    this.disconnected.fire(live.node);
    try {
      if (options.removeAgent) {
        const { modulesRemoved } = await live.agent.remove();
        this.log.info(
          modulesRemoved
            ? `agent removed from ${live.node}`
            : `agent stopped on ${live.node}; another client still uses its modules`,
        );
      }
    } finally {
      live.connection.close('disconnected by the user');
      this.log.info(`disconnected from ${live.node}`);
      this.lastStatus = undefined;
      this.statusItem.hide();
      void vscode.commands.executeCommand('setContext', 'bathysphere.erlangConnected', false);
    }
  }

  private setStatus(status: ErlangNodeStatus): void {
    this.lastStatus = status;
    void vscode.commands.executeCommand(
      'setContext',
      'bathysphere.erlangConnected',
      status.state === 'connected',
    );
    const connected = status.state === 'connected';
    this.statusItem.text = `${connected ? '$(server-process)' : '$(debug-disconnect)'} ${status.node}`;
    this.statusItem.tooltip = connected
      ? `Bathysphere: connected to ${status.node} as a hidden node (agent ${status.agentLoadedBy}). Click to disconnect.`
      : `Bathysphere: ${status.node} is down. Click to reconnect.`;
    this.statusItem.command = connected
      ? 'bathysphere.disconnectErlang'
      : {
          command: 'bathysphere.connectErlang',
          title: 'Reconnect',
          arguments: [{ node: status.node }],
        };
    this.statusItem.backgroundColor = connected
      ? undefined
      : new vscode.ThemeColor('statusBarItem.warningBackground');
    this.statusItem.show();
  }

  private withProgress<T>(title: string, body: () => Promise<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, body),
    );
  }

  dispose(): void {
    this.disconnected.dispose();
    this.live?.connection.close('VS Code is closing');
    this.statusItem.dispose();
  }
}

/** Node names without a host mean this machine, as `erl -sname` does. */
function qualify(node: string): string {
  const { name, host } = parseNodeName(node);
  return `${name}@${host}`;
}

/** A quick pick of the nodes EPMD knows on this machine; typing `name@host` reaches other hosts. */
async function pickNode(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const picker = vscode.window.createQuickPick();
  picker.title = 'Connect to Erlang Node';
  picker.placeholder = 'Pick a node on this machine, or type name@host and press Enter';
  picker.busy = true;
  picker.show();
  const host = parseNodeName('x').host;
  listNodes(host)
    .then((nodes) => {
      picker.items = nodes.map((n) => ({
        label: `${n.name}@${host}`,
        description: `port ${n.port}`,
      }));
    })
    .catch((error: Error) => {
      log.info(`no node list from EPMD on ${host}: ${error.message}`);
      picker.items = [];
    })
    .finally(() => (picker.busy = false));
  return new Promise((resolve) => {
    picker.onDidAccept(() => {
      const chosen = picker.selectedItems[0]?.label ?? picker.value.trim();
      resolve(chosen || undefined);
      picker.hide();
    });
    picker.onDidHide(() => {
      resolve(undefined);
      picker.dispose();
    });
  });
}
