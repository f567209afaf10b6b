// Type-checked ESLint at zero warnings. The domain library stays framework-free: it may not import NestJS,
// an MQTT client or a database client.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', 'seeds/grafana/**/*.json'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'libs/domain is framework-free (README, "Architecture").' },
            { group: ['mqtt', 'aedes', 'aedes-*'], message: 'libs/domain never talks MQTT.' },
            {
              group: ['@influxdata/*', 'kysely', 'better-sqlite3', 'pg'],
              message: 'libs/domain never talks to a database.',
            },
            {
              group: ['@peakwatch/*', '!@peakwatch/contracts'],
              message: 'libs/domain depends on contracts at most.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Plain JavaScript (jest configs, the dependency-free bootstrap script): CommonJS or Node ESM, no type information.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { eqeqeq: ['error', 'always'] },
  },
  prettier,
);
