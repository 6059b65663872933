package server

import (
	"errors"
	"net/http"

	"github.com/meridian-lake/meridian/cluster"
)

// ClusterAPI is the admin API for clusters, mounted under /v1/meridian/
// behind RequireRole(RoleAdmin):
//
//	GET  /v1/meridian/clusters                 every cluster's state
//	POST /v1/meridian/clusters/{name}/drain    stop sending it statements
//	POST /v1/meridian/clusters/{name}/undrain  send it statements again
type ClusterAPI struct {
	Clusters *cluster.Registry
}

// Handler serves the API.
func (a *ClusterAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/meridian/clusters", func(w http.ResponseWriter, _ *http.Request) {
		_ = writeJSON(w, http.StatusOK, map[string]any{"clusters": a.Clusters.Statuses()})
	})
	set := func(draining bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			name := r.PathValue("name")
			if err := a.Clusters.SetDraining(name, draining); err != nil {
				status := http.StatusInternalServerError
				if errors.Is(err, cluster.ErrUnknownCluster) {
					status = http.StatusNotFound
				}
				_ = writeJSON(w, status, map[string]any{"error": map[string]string{"code": "NOT_FOUND", "message": err.Error()}})
				return
			}
			c, _ := a.Clusters.Cluster(name)
			_ = writeJSON(w, http.StatusOK, c.Status())
		}
	}
	mux.HandleFunc("POST /v1/meridian/clusters/{name}/drain", set(true))
	mux.HandleFunc("POST /v1/meridian/clusters/{name}/undrain", set(false))
	return mux
}
