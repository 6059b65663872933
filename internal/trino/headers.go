package trino

import "net/http"

// Request and response header names of the protocol (the X-Trino- forms; the
// legacy X-Presto- prefix is an alias).
const (
	HeaderUser               = "X-Trino-User"
	HeaderOriginalUser       = "X-Trino-Original-User"
	HeaderSource             = "X-Trino-Source"
	HeaderCatalog            = "X-Trino-Catalog"
	HeaderSchema             = "X-Trino-Schema"
	HeaderPath               = "X-Trino-Path"
	HeaderTimeZone           = "X-Trino-Time-Zone"
	HeaderLanguage           = "X-Trino-Language"
	HeaderTraceToken         = "X-Trino-Trace-Token"
	HeaderSession            = "X-Trino-Session"
	HeaderRole               = "X-Trino-Role"
	HeaderPreparedStatement  = "X-Trino-Prepared-Statement"
	HeaderTransactionID      = "X-Trino-Transaction-Id"
	HeaderClientInfo         = "X-Trino-Client-Info"
	HeaderClientTags         = "X-Trino-Client-Tags"
	HeaderClientCapabilities = "X-Trino-Client-Capabilities"
	HeaderResourceEstimate   = "X-Trino-Resource-Estimate"
	HeaderExtraCredential    = "X-Trino-Extra-Credential"
	HeaderQueryDataEncoding  = "X-Trino-Query-Data-Encoding"
	// HeaderAuthorizationUser is what a client sends after SET SESSION
	// AUTHORIZATION: the user to run as.
	HeaderAuthorizationUser = "X-Trino-Authorization-User"

	HeaderSetCatalog             = "X-Trino-Set-Catalog"
	HeaderSetSchema              = "X-Trino-Set-Schema"
	HeaderSetPath                = "X-Trino-Set-Path"
	HeaderSetSession             = "X-Trino-Set-Session"
	HeaderClearSession           = "X-Trino-Clear-Session"
	HeaderSetRole                = "X-Trino-Set-Role"
	HeaderAddedPrepare           = "X-Trino-Added-Prepare"
	HeaderDeallocatedPrepare     = "X-Trino-Deallocated-Prepare"
	HeaderStartedTransactionID   = "X-Trino-Started-Transaction-Id"
	HeaderClearTransactionID     = "X-Trino-Clear-Transaction-Id"
	HeaderSetAuthorizationUser   = "X-Trino-Set-Authorization-User"
	HeaderResetAuthorizationUser = "X-Trino-Reset-Authorization-User"
)

// BaseURL is the scheme and host a client reached the server at: where
// nextUri and infoUri must point.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
