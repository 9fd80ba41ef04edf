// Lint rules. The one rule that matters most for the architecture: only the
// VS Code layer (src/extension/vscode) and the in-host tests may import `vscode`;
// everything else is core that must run in plain Node (tests, CLI).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'dist-vsix/',
      'out/',
      '.tools/',
      'test-results/',
      '.demo/',
      'agents/jvm/build/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message:
                'Core code must not import vscode; put VS Code wiring in src/extension/vscode/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/extension/vscode/**/*.ts', 'test/host/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        __dirname: 'readonly',
        window: 'readonly',
        document: 'readonly',
      },
    },
  },
);
