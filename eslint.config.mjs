// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The core never imports `vscode`: only the extension's composition root, the VS Code plumbing
// in src/host, tree views (*View.ts), webview hosts (*Panel.ts) and command registrations
// (commands.ts) may, and a service the commands of several areas share (*Service.ts, built in
// extension.ts). That keeps the core usable from the CLI and plain Node tests.
const vscodeFaces = [
  'src/extension.ts',
  'src/host/**',
  'src/**/*View.ts',
  'src/**/*Panel.ts',
  'src/**/commands.ts',
  'src/**/*Service.ts',
];

// Child processes get an argument array, never a shell string.
const noShellStrings = ['child_process', 'node:child_process'].map((name) => ({
  name,
  importNames: ['exec', 'execSync'],
  message: 'Pass an argument array (execFile/spawn), never a shell string.',
}));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', '.demo-workspace/**', 'demo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: noShellStrings }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: vscodeFaces,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...noShellStrings,
            {
              name: 'vscode',
              message: 'The core never imports vscode; put this in a *View.ts, *Panel.ts, commands.ts or src/host.',
            },
          ],
        },
      ],
    },
  },
  {
    // CommonJS files: dependency-cruiser's configuration and the layer list it shares with scripts/.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['webview-ui/**/*.ts'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', HTMLElement: 'readonly', customElements: 'readonly' },
    },
    rules: {
      // A webview bundle reaches into src/ only for an area's message contract and the small
      // helpers of src/shared: models and the rest of the core stay on the host.
      'no-restricted-imports': [
        'error',
        {
          paths: noShellStrings,
          patterns: [
            {
              regex: String.raw`(?:^|/)src/(?!(?:shared(?:/[\w-]+)+|[\w-]+(?:/[\w-]+)*/contract)(?:\.ts)?$)`,
              message:
                "A webview imports from src/ only an area's contract.ts or src/shared; re-export what it needs from the contract.",
            },
          ],
        },
      ],
    },
  },
);
