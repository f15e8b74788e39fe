'use strict'
// ESLint for the TypeScript sources (lib/ and the entry points index.ts,
// server.ts, peerjs.ts, room.ts): ESLint's recommended rules and typescript-eslint's
// recommended rules with type information, which catch what the compiler
// lets through (promises left floating, `any` leaking out of untyped APIs,
// needless assertions). `npm run lint`.
const js = require('@eslint/js')
const tseslint = require('typescript-eslint')

module.exports = tseslint.config(
  { ignores: ['dist/**', 'docs/**', 'node_modules/**', 'scratch/**'] },
  {
    files: ['index.ts', 'server.ts', 'peerjs.ts', 'room.ts', 'lib/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname }
    },
    rules: {
      // Typed events: an interface of `on`/`once` overloads merges into the
      // class of the same name. It declares no member the class lacks.
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      // `import x = require('x')` is TypeScript's import of a CommonJS module
      // that exports a function (debug, err-code).
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // Host objects of the engine's parts have getters that read the peer's
      // current fields: `const peer = this` names it for them.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['peer'] }],
      // What a catch clause caught (`unknown`) is passed on as it is.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A parameter that a signature requires but the body does not read starts with `_`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  }
)
