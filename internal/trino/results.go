package trino

import "encoding/json"

// QueryResults is the document a coordinator answers every statement request
// with. Optional parts are omitted when empty, as Trino does.
type QueryResults struct {
	ID               string          `json:"id"`
	InfoURI          string          `json:"infoUri"`
	PartialCancelURI string          `json:"partialCancelUri,omitempty"`
	NextURI          string          `json:"nextUri,omitempty"`
	Columns          []Column        `json:"columns,omitempty"`
	Data             json.RawMessage `json:"data,omitempty"`
	Stats            Stats           `json:"stats"`
	Error            *QueryError     `json:"error,omitempty"`
	Warnings         []Warning       `json:"warnings"`
	UpdateType       string          `json:"updateType,omitempty"`
	UpdateCount      *int64          `json:"updateCount,omitempty"`
}

// Column describes one result column.
type Column struct {
	Name          string        `json:"name"`
	Type          string        `json:"type"`
	TypeSignature TypeSignature `json:"typeSignature"`
}

// Query states as clients see them in Stats.State.
const (
	StateQueued   = "QUEUED"
	StateRunning  = "RUNNING"
	StateFinished = "FINISHED"
	StateFailed   = "FAILED"
)

// Stats is the progress block of QueryResults.
type Stats struct {
	State              string   `json:"state"`
	Queued             bool     `json:"queued"`
	Scheduled          bool     `json:"scheduled"`
	Nodes              int      `json:"nodes"`
	TotalSplits        int      `json:"totalSplits"`
	QueuedSplits       int      `json:"queuedSplits"`
	RunningSplits      int      `json:"runningSplits"`
	CompletedSplits    int      `json:"completedSplits"`
	CPUTimeMillis      int64    `json:"cpuTimeMillis"`
	WallTimeMillis     int64    `json:"wallTimeMillis"`
	QueuedTimeMillis   int64    `json:"queuedTimeMillis"`
	ElapsedTimeMillis  int64    `json:"elapsedTimeMillis"`
	ProcessedRows      int64    `json:"processedRows"`
	ProcessedBytes     int64    `json:"processedBytes"`
	PhysicalInputBytes int64    `json:"physicalInputBytes"`
	PeakMemoryBytes    int64    `json:"peakMemoryBytes"`
	SpilledBytes       int64    `json:"spilledBytes"`
	ProgressPercentage *float64 `json:"progressPercentage,omitempty"`
}

// Warning is one entry of QueryResults.Warnings.
type Warning struct {
	WarningCode struct {
		Code int    `json:"code"`
		Name string `json:"name"`
	} `json:"warningCode"`
	Message string `json:"message"`
}

// Info is the GET /v1/info document.
type Info struct {
	NodeVersion struct {
		Version string `json:"version"`
	} `json:"nodeVersion"`
	Environment string `json:"environment"`
	Coordinator bool   `json:"coordinator"`
	Starting    bool   `json:"starting"`
	Uptime      string `json:"uptime"`
}
