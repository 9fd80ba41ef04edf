/**
 * What "record the program in this editor" needs from a Java source file: its
 * main class name and source root, and a compile of that root with full debug
 * information (local variable names come from javac -g).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface JavaMainClass {
  /** Fully qualified name, e.g. demo.Main. */
  className: string;
  /** The folder the package path starts in. */
  sourceRoot: string;
}

const PACKAGE = /^\s*package\s+([\w.]+)\s*;/m;
const MAIN_METHOD = /\bstatic\s+(?:final\s+)?void\s+main\s*\(/;

/** Finds the main class of a source file, or explains why it has none. */
export function javaMainClassOf(file: string, text: string): JavaMainClass {
  if (!MAIN_METHOD.test(text)) {
    throw new Error(`${path.basename(file)} has no main method`);
  }
  const simpleName = path.basename(file, '.java');
  const packageName = PACKAGE.exec(text)?.[1];
  let sourceRoot = path.dirname(file);
  if (packageName) {
    const parts = packageName.split('.');
    const tail = sourceRoot.split(path.sep).slice(-parts.length);
    if (tail.join('.') !== packageName) {
      throw new Error(
        `${path.basename(file)} declares package ${packageName} but is not in a matching folder`,
      );
    }
    sourceRoot = path.resolve(sourceRoot, ...parts.map(() => '..'));
  }
  return { className: packageName ? `${packageName}.${simpleName}` : simpleName, sourceRoot };
}

export function javaSourcesUnder(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.java')) found.push(full);
    }
  };
  visit(root);
  return found;
}

export interface CompileOptions {
  sourceRoot: string;
  outDir: string;
  /** The javac to run; defaults to javac in javaHome, else on PATH. */
  javaHome?: string;
  signal?: AbortSignal;
}

/** Compiles every source under the root with -g; rejects with javac's messages on failure. */
export function compileJavaSources(options: CompileOptions): Promise<void> {
  const sources = javaSourcesUnder(options.sourceRoot);
  if (sources.length === 0)
    return Promise.reject(new Error(`no .java files under ${options.sourceRoot}`));
  fs.mkdirSync(options.outDir, { recursive: true });
  const javac = options.javaHome ? path.join(options.javaHome, 'bin', 'javac') : 'javac';
  return new Promise((resolve, reject) => {
    const child = spawn(javac, ['-g', '-d', options.outDir, ...sources], {
      signal: options.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) =>
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`${javac} not found: install a JDK or set bathysphere.java.home`)
          : error,
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`javac failed (exit ${code}):\n${output.trim()}`));
    });
  });
}

/** The class a source file declares by its name and package (its top-level class). */
export function classNameOfSource(file: string, text: string): string {
  const simpleName = path.basename(file, '.java');
  const packageName = PACKAGE.exec(text)?.[1];
  return packageName ? `${packageName}.${simpleName}` : simpleName;
}

/** Where a class's source file sits below a source root: demo/Main.java for demo.Main. */
export function sourcePathOf(className: string, sourceFile: string): string {
  const packagePath = className.includes('.')
    ? className.slice(0, className.lastIndexOf('.')).split('.')
    : [];
  return path.join(
    ...packagePath,
    sourceFile || `${className.split('.').pop()!.split('$')[0]}.java`,
  );
}
