package refserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/smithy-go"
)

// errorBody is the JSON every error answer carries.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a bug can get here: every value written is plain data.
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal error: encoding the response failed"}`)
	}
	writeBody(w, status, append(body, '\n'))
}

// writeBody answers status with body, which is JSON already.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing left to tell it
}

// writeError answers status with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// writeRetryError answers status with Retry-After and {"error": msg}.
func writeRetryError(w http.ResponseWriter, status, retryAfterSeconds int, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	writeError(w, status, msg)
}

// writeDynamoError answers a failed DynamoDB call: throttling with the
// profile's throttle status, a timeout with 504, anything else with 502.
func (s *Server) writeDynamoError(w http.ResponseWriter, r *http.Request, op string, err error) {
	var apiErr smithy.APIError
	isAPI := errors.As(err, &apiErr)

	switch {
	case errors.Is(err, errShedding):
		writeRetryError(w, http.StatusServiceUnavailable, retryAfterSeconds(s.profile.Shed.For),
			"server is shedding load while dynamodb throttles: retry later")

	case isAPI && throttleCodes[apiErr.ErrorCode()]:
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "dynamodb throttled",
			slog.String("op", op), slog.String("code", apiErr.ErrorCode()))
		msg := fmt.Sprintf("dynamodb throttled the request (%s)", apiErr.ErrorCode())
		if s.profile.ThrottleStatus == http.StatusServiceUnavailable ||
			s.profile.ThrottleStatus == http.StatusTooManyRequests {
			writeRetryError(w, s.profile.ThrottleStatus, 1, msg)
			return
		}
		writeError(w, s.profile.ThrottleStatus, msg)

	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		writeError(w, http.StatusGatewayTimeout, "dynamodb request timed out or was cancelled")

	case errors.As(err, new(*badItemError)):
		writeError(w, http.StatusBadGateway, err.Error())

	case isAPI:
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "dynamodb error",
			slog.String("op", op), slog.String("code", apiErr.ErrorCode()), slog.Any("err", err))
		writeError(w, http.StatusBadGateway,
			fmt.Sprintf("dynamodb %s failed (%s)", op, apiErr.ErrorCode()))

	default:
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "dynamodb unreachable",
			slog.String("op", op), slog.Any("err", err))
		writeError(w, http.StatusBadGateway, fmt.Sprintf("dynamodb %s failed", op))
	}
}
