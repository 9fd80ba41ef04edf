/**
 * Puts the demo Java program into a workspace the way a user would have it:
 * sources in src/, classes compiled with javac -g in out/, and a launch
 * configuration that records it with Bathysphere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileJavaSources } from '../../src/extension/jvm/javaSource';
import { REPO_ROOT } from './repoRoot';

export const JAVA_DEMO_MAIN = 'demo.Main';

export async function writeJavaDemo(workspace: string): Promise<void> {
  const sourceRoot = path.join(workspace, 'src');
  fs.mkdirSync(path.join(sourceRoot, 'demo'), { recursive: true });
  fs.copyFileSync(
    path.join(REPO_ROOT, 'test/fixtures/demo/java/demo/Main.java'),
    path.join(sourceRoot, 'demo/Main.java'),
  );
  await compileJavaSources({ sourceRoot, outDir: path.join(workspace, 'out') });
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const launch = {
    version: '0.2.0',
    configurations: [
      {
        type: 'bathysphere-java',
        request: 'launch',
        name: 'Record the demo program',
        mainClass: JAVA_DEMO_MAIN,
        classPaths: ['${workspaceFolder}/out'],
        sessionFile: '${workspaceFolder}/demo-recording.bathy',
      },
    ],
  };
  fs.writeFileSync(path.join(workspace, '.vscode/launch.json'), JSON.stringify(launch, null, 2));
}
