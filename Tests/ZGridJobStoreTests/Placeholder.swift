// placeholder until the job store tests land
