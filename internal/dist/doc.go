// Package dist holds no code: its tests check the files through which
// users meet modhygiene outside the command line, at the repository root:
// the GitHub Action (action.yml), the GitLab include
// (.gitlab/modhygiene.gitlab-ci.yml), the pre-commit hooks
// (.pre-commit-hooks.yaml), the Dockerfile and the workflows.
package dist
