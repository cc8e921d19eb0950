package models

// WorkerPosition is how far a background stream worker (e.g. the push
// notification worker) has processed the event stream, so it resumes there
// after a restart instead of skipping what committed meanwhile.
type WorkerPosition struct {
	Name string `gorm:"primaryKey;size:64"`
	Pos  int64  `gorm:"not null"`
}

func (WorkerPosition) TableName() string { return "worker_positions" }
