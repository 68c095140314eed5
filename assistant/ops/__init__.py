"""Operations that drive the core: forget, export and backup, encryption, doctor, logs, watch."""
