#!/usr/bin/env bash
# Runs cfdeploy for the action and sets its outputs (exit-code, result, plan-file,
# changed-stacks) and the job summary. plan: plans into the plan file, and in a pull request
# posts or updates the living comment; apply: executes exactly the saved plan; comment: posts a
# saved plan. The step fails when cfdeploy does (a plan with changes is not a failure).
set -uo pipefail
command="${CFDEPLOY_COMMAND:-plan}"
config="${CFDEPLOY_CONFIG:-stacks}"
plan_file="${CFDEPLOY_PLAN_FILE:-plan.json}"
cfdeploy="${CFDEPLOY_BIN:-cfdeploy}"

global=(--config "$config")
for glob in ${CFDEPLOY_STACKS:-}; do global+=(--stack "$glob"); done
read -r -a extra <<< "${CFDEPLOY_ARGS:-}"

meaning() {
  case "$1" in
    0) echo ok ;; 1) echo failed ;; 2) echo changes ;; 3) echo destructive ;;
    4) echo needs-a-person ;; 5) echo unknown ;; 64) echo usage ;;
    130 | 143) echo interrupted ;; *) echo failed ;;
  esac
}

output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >> "$GITHUB_OUTPUT"; fi; }

changed=0
case "$command" in
  plan)
    "$cfdeploy" "${global[@]}" plan --out "$plan_file" --detailed-exitcode "${extra[@]}"
    code=$?
    if [ -f "$plan_file" ]; then
      changed="$(jq '.summary.to_change' "$plan_file")"
      # In a pull request the plan is the living comment (which also writes the job summary).
      if [ -n "${GITHUB_EVENT_PATH:-}" ] && jq -e '.pull_request' "$GITHUB_EVENT_PATH" > /dev/null 2>&1; then
        "$cfdeploy" "${global[@]}" comment --plan "$plan_file" || code=$?
      elif [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
        "$cfdeploy" "${global[@]}" show "$plan_file" --format markdown >> "$GITHUB_STEP_SUMMARY"
      fi
    fi
    ;;
  apply)
    outcomes="$(mktemp)"
    "$cfdeploy" "${global[@]}" apply --plan "$plan_file" --format json "${extra[@]}" > "$outcomes"
    code=$?
    changed="$(jq '[.stacks[] | select(.result == "created" or .result == "updated" or .result == "deleted")] | length' "$outcomes" 2>/dev/null || echo 0)"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      {
        echo "### cfdeploy apply: $(jq -r '.summary' "$outcomes" 2>/dev/null)"
        echo
        echo "| stack | result | status |"
        echo "|---|---|---|"
        jq -r '.stacks[] | "| \(.stack) | \(.result) | \(.status // "") |"' "$outcomes" 2>/dev/null
      } >> "$GITHUB_STEP_SUMMARY"
    fi
    cat "$outcomes"
    ;;
  comment)
    "$cfdeploy" "${global[@]}" comment --plan "$plan_file" "${extra[@]}"
    code=$?
    ;;
  *)
    echo "::error::cfdeploy action: command must be plan, apply or comment, not \`$command\`" >&2
    code=64
    ;;
esac

output exit-code "$code"
output result "$(meaning "$code")"
output plan-file "$plan_file"
output changed-stacks "$changed"
if [ "$code" = 2 ] && [ "$command" = plan ]; then exit 0; fi
exit "$code"
