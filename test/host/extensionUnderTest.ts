/** Activates the extension under test and returns its API. */
import * as vscode from 'vscode';
import type { BathysphereApi } from '../../src/extension/vscode/extension';

export const EXTENSION_ID = 'bathysphere.bathysphere';

export async function activateExtension(): Promise<BathysphereApi> {
  const extension = vscode.extensions.getExtension<BathysphereApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded`);
  // Activation events may not have fired when the suite starts.
  return extension.activate();
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
