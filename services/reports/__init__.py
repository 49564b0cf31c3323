"""Reports for school admins (PDF and XLSX): summary sheet, study-plan fulfilment, results statistics."""
