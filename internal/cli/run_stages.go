package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/tidy"
)

// stageResult is what one stage of `modhygiene run` produced.
type stageResult struct {
	stage    report.Stage
	findings []finding.Finding
	// failed says the stage could not do its work and the run exits 3.
	failed bool
}

// runMirrorsStage probes the candidate mirrors, shows the table on stderr,
// exports the choice for later steps (GITHUB_ENV on GitHub, the dotenv file
// on GitLab) and puts it into this run's environment, so that every later
// stage fetches through it. A mirror problem is a warning: the run goes on
// with GOPROXY as it was. Only a malformed candidate list is an error.
func (a *app) runMirrorsStage(ctx context.Context, s *runSettings, dotenv string) (stageResult, error) {
	start := time.Now()
	mf := &mirrorsFlags{candidates: s.mirrors, timeout: 3 * time.Second, direct: true, dir: s.dir, dotenv: dotenv}
	m, err := a.probeMirrors(ctx, mf)
	if err != nil {
		var ee *exitcode.Error
		if errors.As(err, &ee) && ee.Code == exitcode.Usage {
			return stageResult{}, exitcode.UsageError(fmt.Errorf("run: mirrors (from %s): %w", s.from["mirrors"], err))
		}
		if ctx.Err() != nil {
			return stageResult{}, err
		}
		fmt.Fprintf(a.stderr, "modhygiene: warning: mirrors: %v; GOPROXY stays as it is\n", err)
		return stageResult{stage: report.Stage{Name: "mirrors", Duration: time.Since(start), Status: "warning",
			Summary: "not measured: " + firstLine(err.Error())}}, nil
	}
	res := stageResult{stage: m.stage, findings: m.findings}
	var mode string
	switch s.platform {
	case ci.GitHub:
		if a.getenv("GITHUB_ENV") != "" {
			mode = "github"
		}
	case ci.GitLab:
		mode = "gitlab"
	}
	if mode == "" && dotenv != "" {
		mode = "gitlab"
	}
	d := &m.decision
	switch {
	case d.GOPROXY == "" || len(d.Chain) == 0:
		// Going direct-only would throw away a GOPROXY that may work
		// better than its probe suggests (a private network's proxy).
		mirror.WriteTable(a.stderr, d)
		fmt.Fprintln(a.stderr, "modhygiene: warning: mirrors: no candidate is usable; GOPROXY stays as it is")
		res.stage.Status = "warning"
		delete(res.stage.Outputs, "goproxy") // the GOPROXY in effect is filled in later
		delete(res.stage.Outputs, "gosumdb")
		res.stage.Duration = time.Since(start)
		return res, nil
	case mode == "":
		mirror.WriteTable(a.stderr, d)
		fmt.Fprintf(a.stderr, "modhygiene: GOPROXY=%s for this run; to keep it: eval \"$(modhygiene mirrors --export shell)\"\n", d.GOPROXY)
	default:
		if err := a.exportMirrors(mode, mf, m, a.stderr); err != nil {
			fmt.Fprintf(a.stderr, "modhygiene: warning: mirrors: exporting the choice: %v\n", err)
			res.stage.Status = "warning"
		}
	}
	var vars []string
	for _, v := range d.Vars() {
		vars = append(vars, v.Name+"="+v.Value)
	}
	a.env = gocmd.Merge(a.env, vars)
	res.stage.Duration = time.Since(start)
	return res, nil
}

// runTidyStage runs go mod tidy over every module, as a check or a fix.
func (a *app) runTidyStage(ctx context.Context, s *runSettings, jobs int) stageResult {
	opt := tidy.Options{Fix: s.tidy == "fix", Jobs: jobs, Progress: a.tidyProgress(len(s.ws.Modules))}
	opt.MemoDir, _ = a.toolCacheDir("tidy-memo")
	start := time.Now()
	results, err := tidy.Run(ctx, a.goRunner(), s.ws, opt)
	a.finishProgress()
	if err != nil {
		fmt.Fprintf(a.stderr, "modhygiene: tidy could not run: %v\n", err)
		return stageResult{stage: report.Stage{Name: "tidy", Duration: time.Since(start), Status: "failed",
			Summary: firstLine(err.Error())}, failed: true}
	}
	stage, fs, failed := tidyOutcome(results, time.Since(start))
	a.reportFixed(results)
	a.reportTidyFailures(failed)
	return stageResult{stage: stage, findings: fs, failed: len(failed) > 0}
}

// runVulnStage scans every module with golang.org/x/vuln through the vuln
// command's own stage. A scan that cannot start or a module that cannot be
// scanned fails the stage (exit 3); a malformed vuln-db is a usage error.
func (a *app) runVulnStage(ctx context.Context, s *runSettings, jobs int) (stageResult, error) {
	start := time.Now()
	stage, fs, failed, err := a.vulnStage(ctx, s.ws, vulnOptions{db: s.vulnDB, jobs: jobs})
	var ee *exitcode.Error
	if errors.As(err, &ee) && ee.Code == exitcode.Usage {
		return stageResult{}, exitcode.UsageError(fmt.Errorf("run: vuln-db (from %s): %w", s.from["vuln-db"], err))
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "modhygiene: vuln: %v\n", err)
		stage.Duration, stage.Status, stage.Summary = time.Since(start), "failed", firstLine(err.Error())
		return stageResult{stage: stage, failed: true}, nil
	}
	for _, e := range failed {
		fmt.Fprintf(a.stderr, "modhygiene: vuln: %v\n", e)
	}
	return stageResult{stage: stage, findings: fs, failed: len(failed) > 0}, nil
}

// cacheStageError turns an error of a cache stage into a warning stage: a
// cache problem never fails the run. Usage errors (a malformed store) are
// returned.
func (a *app) cacheStageError(name string, start time.Time, err error) (stageResult, error) {
	var ee *exitcode.Error
	if errors.As(err, &ee) && ee.Code == exitcode.Usage {
		return stageResult{}, err
	}
	fmt.Fprintf(a.stderr, "modhygiene: warning: cache: %v\n", err)
	st := report.Stage{Name: name, Duration: time.Since(start), Status: "warning", Summary: "cache unavailable: " + firstLine(err.Error())}
	if name == "restore" {
		st.Outputs = map[string]string{"cache-hit": "false"}
	}
	return stageResult{stage: st}, nil
}
