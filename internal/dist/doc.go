// Package dist holds no code: its tests check the files through which
// users meet modhygiene outside the command line, at the repository root:
// the GitHub Action (action.yml, whose node shim action/ tests itself under
// node --test), the GitLab CI/CD component (templates/modhygiene.yml, and
// its copy .gitlab/modhygiene.gitlab-ci.yml) run by gitlab-ci-local, the
// pre-commit hooks (.pre-commit-hooks.yaml), the Dockerfile and the
// workflows. Tests that need a tool (actionlint, gitlab-ci-local and node
// 22+, dockerfile-utils) skip without it; .ci/run installs them.
package dist
